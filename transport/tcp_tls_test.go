package transport

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"testing"
	"time"

	"github.com/dynamokv/dynamo/messages"
)

type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool
}

func newTestCA(t *testing.T, name string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &testCA{cert: cert, key: key, pool: pool}
}

// nodeCert issues a certificate for 127.0.0.1, good as server and client.
func (ca *testCA) nodeCert(t *testing.T, name string) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// tlsConfig trusts trust and presents cert, as a node's configuration does.
func tlsConfig(cert tls.Certificate, trust *testCA) *tls.Config {
	return &tls.Config{
		Certificates: []tls.Certificate{cert},
		RootCAs:      trust.pool,
		MinVersion:   tls.VersionTLS13,
	}
}

func TestTCPTLSClusterExchanges(t *testing.T) {
	ca := newTestCA(t, "cluster")
	trA, a := newTestNode(t, TCPConfig{TLS: tlsConfig(ca.nodeCert(t, "a"), ca)})
	trB, b := newTestNode(t, TCPConfig{TLS: tlsConfig(ca.nodeCert(t, "b"), ca)})
	echoB := spawnEcho(b)
	echoA := spawnEcho(a)
	for i := range 50 {
		res, err := a.Request(echoB, &messages.Echo{Seq: uint64(i)}, 2*time.Second).Result()
		if err != nil {
			t.Fatalf("request %d over TLS: %v", i, err)
		}
		if m, ok := res.(*messages.Echo); !ok || m.Seq != uint64(i) {
			t.Fatalf("got %#v", res)
		}
	}
	if _, err := b.Request(echoA, &messages.Ping{Seq: 1}, 2*time.Second).Result(); err != nil {
		t.Fatal(err)
	}
	pid, s := spawnSink(b, "s")
	for i := range 1000 {
		a.Send(pid, &messages.Blob{Seq: uint64(i), Data: make([]byte, 512)})
	}
	eventually(t, 5*time.Second, func() bool { return s.n.Load() == 1000 }, "blobs over TLS not delivered")
	if sa, sb := trA.Stats(), trB.Stats(); sa.DialFailures+sb.DialFailures != 0 {
		t.Fatalf("dial failures: A %+v, B %+v", sa, sb)
	}
}

func TestTCPTLSForeignCARefused(t *testing.T) {
	ca := newTestCA(t, "cluster")
	other := newTestCA(t, "other")
	trA, a := newTestNode(t, TCPConfig{TLS: tlsConfig(ca.nodeCert(t, "a"), ca)})
	// The rogue trusts the cluster CA, but its own certificate comes from
	// another CA: the cluster must refuse it both ways.
	trR, r := newTestNode(t, TCPConfig{TLS: tlsConfig(other.nodeCert(t, "rogue"), ca)})
	pidA, sA := spawnSink(a, "s")
	pidR, sR := spawnSink(r, "s")

	deadline := time.Now().Add(2 * time.Second)
	for i := 0; time.Now().Before(deadline); i++ {
		r.Send(pidA, &messages.Blob{Seq: uint64(i)})
		a.Send(pidR, &messages.Blob{Seq: uint64(i)})
		time.Sleep(5 * time.Millisecond)
	}
	if n, m := sA.n.Load(), sR.n.Load(); n != 0 || m != 0 {
		t.Fatalf("messages crossed: %d into the cluster, %d out of it", n, m)
	}
	sa, sr := trA.Stats(), trR.Stats()
	if sa.Received != 0 || sr.Received != 0 {
		t.Fatalf("received: A %d, rogue %d", sa.Received, sr.Received)
	}
	// A refuses the rogue's server certificate in its handshake; the
	// rogue's dials are refused by A's listener.
	if sa.DialFailures == 0 || sr.DialFailures == 0 {
		t.Fatalf("dial failures: A %d of %d, rogue %d of %d", sa.DialFailures, sa.Dials, sr.DialFailures, sr.Dials)
	}
	t.Logf("over 2s: A dialed %d times (%d failed), rogue %d (%d failed)", sa.Dials, sa.DialFailures, sr.Dials, sr.DialFailures)
}
