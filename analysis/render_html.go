package analysis

import (
	"io"
)

func renderHTML(w io.Writer, r *Report, o RenderOptions) error { return renderText(w, r, o) }
