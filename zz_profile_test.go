package main

import (
	"os"
	"runtime/pprof"
	"testing"
)

func TestZZProfileRecorder(t *testing.T) {
	if os.Getenv("ZZ_PROFILE") == "" {
		t.Skip()
	}
	up := startRole(t, "upstream")
	dir := t.TempDir()
	writeLoadConfig(t, dir, up, "")
	t.Setenv("GATEHOUSE_TEST_KEY", testProviderKey)
	_, base := startTestStack(t, dir)
	addr := base[len("http://"):]
	runLoadProcess(t, loadSpec{Target: addr, Conc: 64, Calls: 5000, Body: "request_text.json"})
	f, _ := os.Create("/tmp/zz_cpu.pprof")
	pprof.StartCPUProfile(f)
	r := runLoadProcess(t, loadSpec{Target: addr, Conc: 64, Calls: 60000, Body: "request_text.json"})
	pprof.StopCPUProfile()
	f.Close()
	t.Logf("%+v", r)
	m, _ := os.Create("/tmp/zz_mem.pprof")
	pprof.Lookup("allocs").WriteTo(m, 0)
	m.Close()
}
