package record

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// stallWriter blocks every Write until release is closed, like a disk that
// has stopped answering, and keeps what it was given.
type stallWriter struct {
	release chan struct{}
	mu      sync.Mutex
	buf     bytes.Buffer
}

func (s *stallWriter) Write(p []byte) (int, error) {
	<-s.release
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

func (s *stallWriter) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

// TestBackgroundStalledDisk: in background mode Write does not wait for a
// stalled disk (below MaxPending), and once the disk moves again every
// line reaches it, in order.
func TestBackgroundStalledDisk(t *testing.T) {
	sw := &stallWriter{release: make(chan struct{})}
	close(sw.release) // the header goes through
	w, err := NewWriter(sw, "test")
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Background(time.Millisecond); err != nil {
		t.Fatal(err)
	}
	sw.release = make(chan struct{}) // now the disk stalls
	const n = 2000
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range n {
			if err := w.Write(sampleObs(i%60, nil)); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("Write waited for a stalled disk")
	}
	close(sw.release)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	obs, rd, err := ReadAll(strings.NewReader(sw.String()), "bg.jsonl")
	if err != nil || len(rd.Errors) != 0 || len(obs) != n {
		t.Fatalf("read back %d observations (err %v, bad lines %v), want %d", len(obs), err, rd.Errors, n)
	}
}

// TestBackgroundFlushesByItself: without Flush or Close, a line reaches the
// file within the interval (so a killed proxy loses at most that much).
func TestBackgroundFlushesByItself(t *testing.T) {
	sw := &stallWriter{release: make(chan struct{})}
	close(sw.release)
	w, _ := NewWriter(sw, "test")
	w.Background(10 * time.Millisecond)
	defer w.Close()
	w.Write(sampleObs(1, nil))
	for i := 0; !strings.Contains(sw.String(), `"type":"obs"`); i++ {
		if i > 3000 {
			t.Fatal("the observation never reached the file without Flush")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestBackgroundErrors: a write error in the goroutine comes back from
// Flush, the next Write and Close.
func TestBackgroundErrors(t *testing.T) {
	w, _ := NewWriter(failWriter{}, "test")
	if err := w.Background(time.Hour); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("Background error = %v, want disk full (the header could not be written)", err)
	}
	if err := w.Write(sampleObs(1, nil)); err == nil {
		t.Error("Write after a failed write succeeded")
	}
	if err := w.Close(); err == nil {
		t.Error("Close after a failed write succeeded")
	}
}

// TestCreateMode: a trace file is created 0600, and an existing file
// written over becomes 0600 too.
func TestCreateMode(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Windows files have no group and other permission bits")
	}
	dir := t.TempDir()
	for _, tc := range []struct {
		name     string
		existing bool
	}{{"new.jsonl", false}, {"old.jsonl", true}} {
		p := filepath.Join(dir, tc.name)
		if tc.existing {
			if err := os.WriteFile(p, []byte("old"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		w, err := Create(p, "test")
		if err != nil {
			t.Fatal(err)
		}
		w.Write(sampleObs(1, nil))
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if m := st.Mode().Perm(); m != 0o600 {
			t.Errorf("%s: mode %o, want 600", tc.name, m)
		}
		data, _ := os.ReadFile(p)
		if obs, _, err := ReadAll(bytes.NewReader(data), p); err != nil || len(obs) != 1 {
			t.Errorf("%s: read back %d observations, err %v", tc.name, len(obs), err)
		}
	}
}
