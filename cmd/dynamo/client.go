package main

import "fmt"

func runClient(cmd string, args []string) error {
	return fmt.Errorf("%s: the data path is not built into this binary yet", cmd)
}
