package analysis

import (
	"strings"
	"testing"

	"github.com/certsleuth/certsleuth/exchange"
)

// settingRemedy picks the release's command, lists the others that differ
// grouped into ranges, and for a setting the release lacks falls back to
// the newest release that has it, saying so.
func TestSettingRemedy(t *testing.T) {
	p := exchange.FixParams{Server: "EXCH01", Scope: exchange.ScopeInternal, NewHost: "mail.contoso.com"}
	rm := settingRemedy(exchange.LookupSetting(exchange.SettingSCP), "2016", false, p)
	if !strings.HasPrefix(rm.Command, "Set-ClientAccessService ") || rm.Version != "2016" || rm.Assumed {
		t.Errorf("SCP on 2016: %+v", rm)
	}
	if len(rm.Other) != 1 || rm.Other[0].Versions != "2007-2013" || !strings.HasPrefix(rm.Other[0].Command, "Set-ClientAccessServer ") {
		t.Errorf("SCP other releases: %+v", rm.Other)
	}
	// UM on 2013 and later: the EWS virtual directory's command, said so.
	rm = settingRemedy(exchange.LookupSetting(exchange.SettingUM), "2019", true, p)
	if rm.Setting != exchange.SettingEWS || rm.Version != "2019" || !strings.HasPrefix(rm.Command, "Set-WebServicesVirtualDirectory ") || !strings.Contains(rm.Note, "not in Exchange 2019") || !rm.Assumed {
		t.Errorf("UM on 2019: %+v", rm)
	}
	rm = settingRemedy(exchange.LookupSetting(exchange.SettingUM), "2010", false, p)
	if rm.Setting != exchange.SettingUM || !strings.HasPrefix(rm.Command, "Set-UMVirtualDirectory ") {
		t.Errorf("UM on 2010: %+v", rm)
	}
	// Every printed command names a real server or the marked <SERVER>.
	for _, set := range exchange.Settings {
		for _, v := range set.Versions {
			cmd, _ := set.Command(v, exchange.FixParams{Scope: exchange.ScopeInternal, NewHost: "mail.contoso.com"})
			if strings.Contains(cmd, "-Identity \"<SERVER>") {
				t.Errorf("%s on %s: %s: -Identity with a placeholder server inside a name", set.ID, v, cmd)
			}
		}
	}
	rm = settingRemedy(exchange.LookupSetting(exchange.SettingSRV), "2019", false, exchange.FixParams{Domain: "contoso.com", NewHost: "mail.contoso.com"})
	if rm.Version != "" || len(rm.Other) != 0 {
		t.Errorf("SRV has no release: %+v", rm)
	}
}
