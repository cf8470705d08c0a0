package client_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/dynamokv/dynamo/client"
)

// Read a shopping cart, merge its siblings, and write the merge back with
// the read's context, which supersedes every sibling read.
func Example() {
	ctx := context.Background()
	c, err := client.New(ctx, client.Config{
		Seeds:   []string{"http://127.0.0.1:8001", "http://127.0.0.1:8002"},
		Timeout: 2 * time.Second,
	})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	key := []byte("cart:alice")
	res, err := c.Get(ctx, key, client.GetOptions{})
	if err != nil {
		log.Fatal(err)
	}
	merged := bytes.Join(res.Values, []byte(","))
	if !res.Found {
		merged = []byte("apples")
	}
	_, err = c.Put(ctx, key, merged, client.PutOptions{Context: res.Context})
	var nodeErr *client.Error
	switch {
	case errors.As(err, &nodeErr) && nodeErr.Status == 503:
		fmt.Println("too few replicas answered; the write may still land:", nodeErr.Message)
	case errors.Is(err, client.ErrOutcomeUnknown):
		// Writing again blind could add a sibling: read first.
		fmt.Println("no answer; the write may still land:", err)
	case err != nil:
		log.Fatal(err)
	}
}
