package kv

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/dynamokv/dynamo/client"
)

// Helpers the process benchmarks share: loading keys, a foreground load
// with its latency, and polling a node.

// valueSize is the size of the values Foreground writes.
const valueSize = 100

func Puts(ctx context.Context, cl *client.Client, count int, key func(int) []byte, value []byte, w int) error {
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	next := make(chan int)
	for g := 0; g < 64; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if _, err := cl.Put(ctx, key(i), value, client.PutOptions{W: w}); err != nil {
					select {
					case errs <- fmt.Errorf("put %s: %w", key(i), err):
					default:
					}
				}
			}
		}()
	}
	for i := 0; i < count && ctx.Err() == nil; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
	select {
	case err := <-errs:
		return err
	default:
		return ctx.Err()
	}
}

// LoadCluster connects a client (mode, through the first two nodes) and puts
// n keys named key-%012d of valueSize bytes at W=3, so that every replica
// holds them; it prints how long that took, the line the process
// benchmarks start their report with.
func LoadCluster(ctx context.Context, c *Cluster, mode client.Mode, n, valueSize int) (*client.Client, error) {
	cl, err := client.New(ctx, client.Config{Seeds: c.Seeds()[:2], Timeout: 5 * time.Second, Mode: mode})
	if err != nil {
		return nil, err
	}
	start := time.Now()
	if err := Puts(ctx, cl, n, func(i int) []byte { return fmt.Appendf(nil, "key-%012d", i) }, make([]byte, valueSize), 3); err != nil {
		cl.Close()
		return nil, err
	}
	fmt.Printf("Three node processes (N=3, R=W=2, %s storage, Q=64), %d keys of %d B loaded in %v, %s.\n\n",
		c.Storage, n, valueSize, time.Since(start).Round(time.Millisecond), time.Now().Format("2006-01-02"))
	return cl, nil
}

type FgResult struct {
	ops, errs int
	p50, p99  time.Duration
	// Errors quotes the first few errors.
	Errors []string
}

func (r FgResult) String() string {
	return fmt.Sprintf("%d ops, %d errors, p50 %.2f ms, p99 %.2f ms", r.ops, r.errs,
		float64(r.p50)/float64(time.Millisecond), float64(r.p99)/float64(time.Millisecond))
}

// load runs 16 clients doing gets and puts for d or until stop closes.
func Foreground(ctx context.Context, cl *client.Client, n int, d time.Duration, stop <-chan struct{}) FgResult {
	var mu sync.Mutex
	h := hdrhistogram.New(1, int64(10*time.Second/time.Microsecond), 3)
	var r FgResult
	deadline := time.Now().Add(d)
	value := make([]byte, valueSize)
	var wg sync.WaitGroup
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 10_000_000 && time.Now().Before(deadline) && ctx.Err() == nil; i++ {
				select {
				case <-stop:
					return
				default:
				}
				k := fmt.Appendf(nil, "key-%012d", rand.IntN(n))
				t0 := time.Now()
				var err error
				if i%2 == 0 {
					_, err = cl.Get(ctx, k, client.GetOptions{})
				} else {
					_, err = cl.Put(ctx, k, value, client.PutOptions{})
				}
				el := time.Since(t0)
				mu.Lock()
				r.ops++
				if err != nil {
					r.errs++
					if len(r.Errors) < 5 {
						r.Errors = append(r.Errors, err.Error())
					}
				} else {
					_ = h.RecordValue(el.Microseconds())
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	r.p50 = time.Duration(h.ValueAtQuantile(50)) * time.Microsecond
	r.p99 = time.Duration(h.ValueAtQuantile(99)) * time.Microsecond
	return r
}

func GetJSON(ctx context.Context, u string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return jsonDecode(resp, v)
}

// Metric reads one value from a node's /metrics.
func Metric(n *Node, name string) (float64, error) {
	all, err := Metrics(n)
	if err != nil {
		return 0, err
	}
	v, ok := all[name]
	if !ok {
		return 0, errors.New("no metric " + name)
	}
	return v, nil
}

// Metrics reads every unlabelled value of a node's /metrics at once.
func Metrics(n *Node) (map[string]float64, error) {
	resp, err := http.Get("http://" + n.HTTP + "/metrics")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) == 2 && !strings.HasPrefix(f[0], "#") {
			if v, err := strconv.ParseFloat(f[1], 64); err == nil {
				out[f[0]] = v
			}
		}
	}
	return out, sc.Err()
}

func WaitFor(ctx context.Context, limit time.Duration, cond func() bool) error {
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			return fmt.Errorf("not within %v", limit)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return nil
}

func jsonDecode(resp *http.Response, v any) error {
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", resp.Request.URL, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}
