package browser

import (
	"os"
	"strconv"
	"strings"
)

// CPU is the CPU time, in seconds, that the browser's processes (its
// process group: browser, renderer, GPU and utility processes) have used
// so far, from /proc; ok is false where that cannot be read.
func (b *Browser) CPU() (seconds float64, ok bool) {
	secs, _ := b.group()
	return secs, true
}

// group reads /proc for the processes of the browser's process group:
// their CPU time in seconds, and whether one of their threads is running
// or waiting for a CPU (state R) now.
func (b *Browser) group() (secs float64, runnable bool) {
	pgid := strconv.Itoa(b.PID())
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		f := statFields("/proc/" + e.Name() + "/stat")
		// After the name: state, ppid, pgrp, ... utime (12th), stime (13th).
		if len(f) < 13 || f[2] != pgid {
			continue
		}
		ut, _ := strconv.ParseFloat(f[11], 64)
		st, _ := strconv.ParseFloat(f[12], 64)
		secs += (ut + st) / 100 // USER_HZ is 100 on every Linux architecture Go builds for
		if runnable {
			continue
		}
		tasks, _ := os.ReadDir("/proc/" + e.Name() + "/task")
		for _, t := range tasks {
			if tf := statFields("/proc/" + e.Name() + "/task/" + t.Name() + "/stat"); len(tf) > 0 && tf[0] == "R" {
				runnable = true
				break
			}
		}
	}
	return secs, runnable
}

// statFields are the fields of a /proc stat file after the command name
// (which may hold spaces and parentheses), nil if it cannot be read.
func statFields(path string) []string {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 || i+2 > len(s) {
		return nil
	}
	return strings.Fields(s[i+2:])
}
