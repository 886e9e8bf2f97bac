// singleflight_bench.go — Go's golang.org/x/sync/singleflight on the hot-key join
// workload of bench/bench_singleflight.c, so bench/run-go-compare.sh can print both.
//
// The workload, operation for operation:
//   - T workers (goroutines; GOMAXPROCS = T, 1 then 2), one shared Group, ONE key
//     "hot-key".
//   - A worker runs rounds of M = 64 operations. One operation = one caller asking for
//     the hot key without blocking: Group.DoChan. The caller that finds no call in
//     flight starts it (Go runs fn in a new goroutine; fn here blocks until its worker's
//     round ends, so the result is "being computed"); every other caller joins it.
//   - After its M DoChans the worker lets its own fn finish (closes its round's release
//     channel), then receives every result from its M channels. So one operation costs
//     DoChan + one receive, with the flight's goroutine and fn amortised over it.
//   - ns/op = wall time / operations per worker, median of 5 runs of 20000 rounds
//     (1.28 M operations per worker).
//
// Build (Debian: golang-go + golang-golang-x-sync-dev, no network):
//   GO111MODULE=off GOPATH=/usr/share/gocode go build -o sfbench singleflight_bench.go
// Output: "go_singleflight_join_<T>t <ns> ns/op" per T.
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"sort"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
)

const (
	m      = 64
	rounds = 20000
	reps   = 5
	key    = "hot-key"
)

func worker(g *singleflight.Group, start *sync.WaitGroup, done *sync.WaitGroup, bad *int64) {
	defer done.Done()
	chans := make([]<-chan singleflight.Result, m)
	value := uint64(42)
	start.Wait()
	for r := 0; r < rounds; r++ {
		release := make(chan struct{})
		fn := func() (interface{}, error) {
			<-release
			return value, nil
		}
		for i := 0; i < m; i++ {
			chans[i] = g.DoChan(key, fn)
		}
		close(release)
		for i := 0; i < m; i++ {
			res := <-chans[i]
			if res.Err != nil || res.Val.(uint64) != value {
				*bad++
			}
		}
	}
}

func run(threads int) float64 {
	runtime.GOMAXPROCS(threads)
	ns := make([]float64, reps)
	for rep := 0; rep < reps; rep++ {
		var g singleflight.Group
		var start, done sync.WaitGroup
		bad := make([]int64, threads)
		start.Add(1)
		done.Add(threads)
		for i := 0; i < threads; i++ {
			go worker(&g, &start, &done, &bad[i])
		}
		runtime.GC()
		t0 := time.Now()
		start.Done()
		done.Wait()
		el := time.Since(t0)
		for _, b := range bad {
			if b != 0 {
				fmt.Fprintf(os.Stderr, "go singleflight: %d unexpected results\n", b)
			}
		}
		ns[rep] = float64(el.Nanoseconds()) / float64(rounds*m)
	}
	sort.Float64s(ns)
	return ns[reps/2]
}

func main() {
	maxThreads := flag.Int("threads", 2, "run 1..threads workers")
	flag.Parse()
	fmt.Printf("# go %s, golang.org/x/sync/singleflight: rounds of %d DoChan on one key, "+
		"median of %d x %d rounds\n", runtime.Version(), m, reps, rounds)
	for t := 1; t <= *maxThreads; t++ {
		fmt.Printf("go_singleflight_join_%dt %.1f ns/op\n", t, run(t))
	}
}
