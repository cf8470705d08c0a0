package store

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// A data directory holds one engine's files. Opening it with the other
// engine would find no data there and start empty, as if the node had
// lost everything: both engines refuse such a directory instead.

// otherEngine reports which engine's files dir holds, if not want's.
func otherEngine(dir, want string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		if os.IsNotExist(err) {
			return nil
		}
		return err
	}
	for _, e := range entries {
		name := e.Name()
		found := ""
		switch {
		case strings.HasSuffix(name, ".seg"):
			found = "log"
		case name == "CURRENT" || strings.HasPrefix(name, "MANIFEST-") || strings.HasSuffix(name, ".sst"):
			found = "pebble"
		}
		if found != "" && found != want {
			return fmt.Errorf("%s holds %s storage (%s), not %s: run the node with --storage %s, or point --data elsewhere",
				dir, found, filepath.Join(dir, name), want, found)
		}
	}
	return nil
}
