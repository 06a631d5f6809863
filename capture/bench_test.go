package capture

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// BenchmarkRead reads the capture files named in $CERTSLEUTH_BENCH_PCAP
// (colon-separated; e.g. the big.pcap and hs.pcap of scripts/bench-pcap.sh)
// and, always, the committed test captures. It reports throughput (MB/s)
// and the process's memory obtained from the OS (MiB-sys). The big files
// are read under LimitMemory, as certsleuth pcap reads them.
func BenchmarkRead(b *testing.B) {
	var files []string
	if env := os.Getenv("CERTSLEUTH_BENCH_PCAP"); env != "" {
		files = strings.Split(env, ":")
	}
	for _, name := range files {
		st, err := os.Stat(name)
		if err != nil {
			b.Fatalf("CERTSLEUTH_BENCH_PCAP: %v", err)
		}
		b.Run(filepath.Base(name), func(b *testing.B) {
			b.SetBytes(st.Size())
			b.ReportAllocs()
			defer LimitMemory()() // as certsleuth pcap does
			for b.Loop() {
				f, err := os.Open(name)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := Read(f, name, Options{}); err != nil {
					b.Fatal(err)
				}
				f.Close()
			}
			reportSys(b)
		})
	}
	b.Run("testdata", func(b *testing.B) {
		names, _ := filepath.Glob("testdata/*.pcap*")
		var datas [][]byte
		var total int64
		for _, n := range names {
			if strings.HasSuffix(n, ".golden") {
				continue
			}
			d, err := os.ReadFile(n)
			if err != nil {
				b.Fatal(err)
			}
			datas = append(datas, d)
			total += int64(len(d))
		}
		if total == 0 {
			b.Skip("no test captures")
		}
		b.SetBytes(total)
		b.ReportAllocs()
		for b.Loop() {
			for _, d := range datas {
				Read(bytes.NewReader(d), "bench", Options{})
			}
		}
	})
}

func reportSys(b *testing.B) {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.Sys)/(1<<20), "MiB-sys")
}
