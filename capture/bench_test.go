package capture

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/certsleuth/certsleuth/record"
)

// BenchmarkRead reads the capture files named in $CERTSLEUTH_BENCH_PCAP
// (colon-separated; e.g. the big.pcap and hs.pcap of scripts/bench-pcap.sh)
// and, always, the committed test captures. It reports throughput (MB/s)
// and the process's memory obtained from the OS (MiB-sys). The big files
// are read under LimitMemory, as certsleuth pcap reads them.
func BenchmarkRead(b *testing.B) {
	benchFiles(b, func(f *os.File, name string) error {
		_, err := Read(f, name, Options{})
		return err
	})
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

// BenchmarkStream reads the files of $CERTSLEUTH_BENCH_PCAP with Stream,
// which hands each observation over instead of keeping it (as
// certsleuth pcap hands it to --record and --live): its memory (MiB-sys)
// must not grow with the number of connections. Run it alone (-bench Stream):
// MiB-sys never goes down within a process.
func BenchmarkStream(b *testing.B) {
	benchFiles(b, func(f *os.File, name string) error {
		n := 0
		_, err := Stream(f, name, Options{}, func(o *record.Observation) error {
			n++
			return nil
		})
		if err == nil && n == 0 {
			err = fmt.Errorf("%s: no observations", name)
		}
		return err
	})
}

// benchFiles runs read on each file of $CERTSLEUTH_BENCH_PCAP.
func benchFiles(b *testing.B, read func(f *os.File, name string) error) {
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
				if err := read(f, name); err != nil {
					b.Fatal(err)
				}
				f.Close()
			}
			reportSys(b)
		})
	}
}

func reportSys(b *testing.B) {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.Sys)/(1<<20), "MiB-sys")
}
