#!/bin/sh
# html-load.sh REPORT.html...: how big each HTML report is and how long
# headless Chromium takes to open it (docs/report.md, "Size at any input").
#
# A copy of each report gets a script at its end that, once the page has
# loaded, writes the navigation timings (DOMContentLoaded, load, first
# contentful paint, in ms since the navigation began) and the number of
# cause elements into the page; Chromium's --dump-dom prints them. The
# report itself has no script. Set CHROMIUM to choose the browser.
set -eu
chrome=${CHROMIUM:-$(command -v chromium || command -v chromium-browser || command -v google-chrome)}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
probe='<script>addEventListener("load",function(){setTimeout(function(){var n=performance.getEntriesByType("navigation")[0],p=performance.getEntriesByType("paint").filter(function(e){return e.name=="first-contentful-paint"})[0],o=document.createElement("pre");o.id="html-load";o.textContent="domcontentloaded="+Math.round(n.domContentLoadedEventEnd)+"ms load="+Math.round(n.loadEventEnd)+"ms fcp="+(p?Math.round(p.startTime)+"ms":"-")+" causes="+document.querySelectorAll("[data-cause]").length+" rows="+document.querySelectorAll("tr").length;document.body.appendChild(o)},0)})</script>'
for f in "$@"; do
	size=$(wc -c <"$f")
	page="$tmp/$(basename "$f")"
	# the probe goes before the last </body>
	awk -v probe="$probe" '{ lines[NR] = $0 } END { last = 0; for (i = NR; i > 0; i--) if (index(lines[i], "</body>")) { last = i; break }
		for (i = 1; i <= NR; i++) { if (i == last) sub("</body>", probe "</body>", lines[i]); print lines[i] } }' "$f" >"$page"
	start=$(date +%s%N)
	out=$("$chrome" --headless --no-sandbox --disable-gpu --no-first-run --disable-extensions --user-data-dir="$tmp/profile" \
		--window-size=1280,800 --virtual-time-budget=30000 --dump-dom "file://$page" 2>/dev/null | grep -o 'id="html-load">[^<]*' | sed 's/.*>//')
	end=$(date +%s%N)
	printf '%s: %d bytes; %s; chromium start to DOM dump %d ms\n' "$f" "$size" "${out:-no timing (the page did not load)}" $(((end - start) / 1000000))
done
