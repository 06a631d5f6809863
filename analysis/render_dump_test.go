package analysis

import (
	"os"
	"testing"
)

func TestDumpScenario(t *testing.T) {
	name := os.Getenv("DUMP")
	if name == "" {
		t.Skip("set DUMP")
	}
	for _, sc := range scenarioList(t) {
		if sc.name == name {
			Render(os.Stdout, analyzeScenario(t, sc), os.Getenv("FMT"), RenderOptions{Title: sc.name})
		}
	}
}
