package record

import (
	"bytes"
	"crypto/rand"
	"io"
	"testing"
)

// benchChain is a 3-certificate chain of about 4 KB, like a real one.
func benchChain() [][]byte {
	chain := make([][]byte, 3)
	for i := range chain {
		chain[i] = make([]byte, 1400)
		rand.Read(chain[i])
	}
	return chain
}

const benchN = 100000

func benchTrace(b *testing.B, chain [][]byte) []byte {
	var buf bytes.Buffer
	w, err := NewWriter(&buf, "bench")
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; i < benchN; i++ {
		if err := w.Write(sampleObs(i, chain)); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}

// BenchmarkTraceWrite writes a trace of 100,000 connections to one server
// and reports its size per observation: the chain is stored once.
func BenchmarkTraceWrite(b *testing.B) {
	chain := benchChain()
	var size int
	for b.Loop() {
		size = len(benchTrace(b, chain))
	}
	b.ReportMetric(float64(size)/benchN, "bytes/obs")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchN), "ns/obs")
}

// BenchmarkTraceRead reads that trace back.
func BenchmarkTraceRead(b *testing.B) {
	data := benchTrace(b, benchChain())
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		rd := NewReader(bytes.NewReader(data), "bench")
		got := 0
		for {
			_, err := rd.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			got++
		}
		if got != benchN {
			b.Fatalf("read %d observations, want %d", got, benchN)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchN), "ns/obs")
}
