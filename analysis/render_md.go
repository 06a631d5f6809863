package analysis

import (
	"io"
)

func renderMarkdown(w io.Writer, r *Report, o RenderOptions) error { return renderText(w, r, o) }
