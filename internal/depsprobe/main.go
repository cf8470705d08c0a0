package main

import (
	_ "github.com/HdrHistogram/hdrhistogram-go"
	_ "github.com/anthdm/hollywood/actor"
	_ "github.com/anthdm/hollywood/remote"
	_ "github.com/cespare/xxhash/v2"
	_ "github.com/cockroachdb/pebble/v2"
	_ "github.com/prometheus/client_golang/prometheus"
	_ "github.com/rs/zerolog"
	_ "github.com/vmihailenco/msgpack/v5"
	_ "google.golang.org/protobuf/types/known/wrapperspb"
)

func main() {}
