package node

import (
	"bytes"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
)

func validConfig() Config {
	c := DefaultConfig()
	c.ID = "n1"
	c.Storage = "memory"
	return c.WithDefaults()
}

func TestDefaultsAreValid(t *testing.T) {
	if err := validConfig().Validate(); err != nil {
		t.Fatalf("defaults plus an id do not validate: %v", err)
	}
}

func TestValidateSaysWhatIsWrong(t *testing.T) {
	cases := []struct {
		name   string
		change func(*Config)
		want   string
	}{
		{"no id", func(c *Config) { c.ID = "" }, "id: required"},
		{"listen not host:port", func(c *Config) { c.Listen = "7001" }, `listen "7001": want host:port`},
		{"advertise port 0", func(c *Config) { c.Advertise = "127.0.0.1:0" }, "port 0 cannot be advertised"},
		{"advertise unspecified", func(c *Config) { c.Advertise = "0.0.0.0:7001" }, "cannot be advertised"},
		{"bad http", func(c *Config) { c.HTTP = "localhost:http" }, `http "localhost:http"`},
		{"partitions not a power of two", func(c *Config) { c.Partitions = 48 }, "partitions 48: want a power of two"},
		{"no replicas", func(c *Config) { c.Replicas = 0; c.ReadQuorum = 1; c.WriteQuorum = 1 }, "replicas 0"},
		{"R over N", func(c *Config) { c.ReadQuorum = 4 }, "read quorum 4: want 1..replicas (3)"},
		{"W zero", func(c *Config) { c.WriteQuorum = 0 }, "write quorum 0"},
		{"pebble without dir", func(c *Config) { c.Storage = "pebble" }, "data dir: required"},
		{"unknown storage", func(c *Config) { c.Storage = "disk" }, `storage "disk": want log, pebble or memory`},
		{"frame below value", func(c *Config) { c.MaxFrameSize = 1 << 20 }, "must exceed max key + value size"},
		{"partial tls", func(c *Config) { c.TLSCert = "a.pem" }, "tls: give all of cert, key and CA"},
		{"member without address", func(c *Config) { c.Members = []string{"n1"} }, `members: "n1": want id=host:port`},
		{"member twice", func(c *Config) { c.Members = []string{"n1=127.0.0.1:1", "n1=127.0.0.1:2"} }, "listed twice"},
		{"coordinators", func(c *Config) { c.Coordinators = 0 }, "coordinators 0"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := validConfig()
			tc.change(&c)
			err := c.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate() = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	c := validConfig()
	c.ID, c.Partitions = "", 3
	err := c.Validate()
	if err == nil || !strings.Contains(err.Error(), "id: required") || !strings.Contains(err.Error(), "partitions 3") {
		t.Fatalf("want both problems reported, got %v", err)
	}
}

func TestParseMembersKeepsOrder(t *testing.T) {
	ms, err := ParseMembers([]string{"n2=127.0.0.1:7002", " n1=127.0.0.1:7001 "})
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 2 || ms[0].ID != "n2" || ms[1].ID != "n1" || ms[1].Addr != "127.0.0.1:7001" {
		t.Fatalf("got %+v", ms)
	}
}

func TestLoggerRejectsBadSettings(t *testing.T) {
	if _, err := NewLogger(nil, "xml", "info"); err == nil {
		t.Error("format xml accepted")
	}
	if _, err := NewLogger(nil, "json", "loud"); err == nil {
		t.Error("level loud accepted")
	}
}

// hollywood logs through log/slog; a node must show those lines in its own
// zerolog format, with slog's attributes as fields.
func TestSlogIsRoutedIntoZerolog(t *testing.T) {
	var buf bytes.Buffer
	log, err := NewLogger(&buf, "json", "info")
	if err != nil {
		t.Fatal(err)
	}
	old := slog.Default()
	defer slog.SetDefault(old)
	RouteSlog(log)
	slog.Error("actor crashed", "pid", "vnode/3")
	slog.Debug("below the level")
	out := buf.String()
	if !strings.Contains(out, `"level":"error"`) || !strings.Contains(out, `"pid":"vnode/3"`) ||
		!strings.Contains(out, `"message":"actor crashed"`) {
		t.Fatalf("slog line not in zerolog JSON form: %s", out)
	}
	if strings.Contains(out, "below the level") {
		t.Fatalf("debug line written at info level: %s", out)
	}
}

func TestDataDirDefaultsToOneNamedAfterTheNode(t *testing.T) {
	c := Config{ID: "n7"}.WithDefaults()
	if c.DataDir != filepath.Join("dynamo-data", "n7") {
		t.Fatalf("data dir %q", c.DataDir)
	}
	if c := (Config{ID: "n7", Storage: "memory"}).WithDefaults(); c.DataDir != "" {
		t.Fatalf("memory storage got data dir %q", c.DataDir)
	}
}
