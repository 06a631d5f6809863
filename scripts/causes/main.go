// Command causes reduces certsleuth JSON reports to their causes and
// counts (see internal/causes), or compares two such lists:
//
//	go run ./scripts/causes REPORT.json > CAUSES.txt
//	go run ./scripts/causes -compare OLD.txt REPORT.json
//
// -compare exits 1 and prints the differences when the report's causes
// are not those of OLD.txt.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/certsleuth/certsleuth/internal/causes"
)

func main() {
	compare := flag.String("compare", "", "compare the report's causes with this `FILE` (written by causes)")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: causes [-compare OLD.txt] REPORT.json")
		os.Exit(2)
	}
	f, err := os.Open(flag.Arg(0))
	if err != nil {
		fmt.Fprintln(os.Stderr, "causes:", err)
		os.Exit(2)
	}
	got, err := causes.FromJSON(f)
	f.Close()
	if err != nil {
		fmt.Fprintf(os.Stderr, "causes: %s: %v\n", flag.Arg(0), err)
		os.Exit(2)
	}
	if *compare == "" {
		if err := causes.Write(os.Stdout, got); err != nil {
			fmt.Fprintln(os.Stderr, "causes:", err)
			os.Exit(2)
		}
		return
	}
	o, err := os.Open(*compare)
	if err != nil {
		fmt.Fprintln(os.Stderr, "causes:", err)
		os.Exit(2)
	}
	want, err := causes.Read(o)
	o.Close()
	if err != nil {
		fmt.Fprintf(os.Stderr, "causes: %s: %v\n", *compare, err)
		os.Exit(2)
	}
	d := causes.Diff(want, got)
	n := 0
	for _, c := range got {
		n += c.Requests
	}
	fmt.Printf("%s: %d causes, %d requests; %d differences from %s\n", flag.Arg(0), len(got), n, len(d), *compare)
	for _, s := range d {
		fmt.Println(s)
	}
	if len(d) > 0 {
		os.Exit(1)
	}
}
