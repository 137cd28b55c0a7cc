package web

import (
	"fmt"
	"strings"
)

// Charts are drawn on the server as SVG: they print, need no script, and carry their numbers as
// text and <title> tooltips. Geometry is in viewBox units; CSS scales the SVG to the page width.

// barChart is a horizontal bar chart, one labelled bar per row (labels above bars, so long agency
// names fit a phone screen).
type barChart struct {
	ID, Title     string
	Width, Height int
	Bars          []chartBar
}

type chartBar struct {
	Label, ValueText, Class string
	X, Y, W, H              float64
	TextY, ValueX, ValueY   float64
}

const (
	chartWidth    = 400
	barAreaWidth  = 300
	barRowHeight  = 40
	barThickness  = 14
	barLabelSpace = 16
)

// newBarChart draws values against max (the largest value when max is 0); class names each bar's
// style, e.g. "late" for overruns.
func newBarChart(id, title string, labels []string, values []float64, max float64, format func(float64) string, class string) barChart {
	if max <= 0 {
		for _, v := range values {
			max = maxFloat(max, v)
		}
	}
	c := barChart{ID: id, Title: title, Width: chartWidth, Height: barRowHeight*len(values) + 4}
	for i, v := range values {
		y := float64(i*barRowHeight) + barLabelSpace
		w := 0.0
		if max > 0 {
			w = barAreaWidth * v / max
		}
		c.Bars = append(c.Bars, chartBar{
			Label: truncate(labels[i], 60), ValueText: format(v), Class: class,
			X: 0, Y: y, W: w, H: barThickness, TextY: y - 4, ValueX: w + 6, ValueY: y + barThickness - 3,
		})
	}
	return c
}

// lineChart plots percentages (0–100) over labelled points, e.g. months.
type lineChart struct {
	ID, Title     string
	Width, Height int
	Points        string
	Dots          []chartDot
	GridLines     []gridLine
}

type chartDot struct {
	X, Y, LabelY     float64
	Label, ValueText string
}

type gridLine struct {
	X1, X2, Y, TextX, TextY float64
	Label                   string
}

const (
	lineChartHeight = 220
	plotLeft        = 44
	plotRight       = chartWidth - 16
	plotTop         = 12
	plotBottom      = lineChartHeight - 30
)

func newPercentLineChart(id, title string, labels []string, percents []float64, format func(float64) string) lineChart {
	c := lineChart{ID: id, Title: title, Width: chartWidth, Height: lineChartHeight}
	for _, p := range []float64{0, 50, 100} {
		y := plotBottom - (plotBottom-plotTop)*p/100
		c.GridLines = append(c.GridLines, gridLine{X1: plotLeft, X2: plotRight, Y: y, TextX: 0, TextY: y + 4, Label: format(p)})
	}
	step := 0.0
	if len(percents) > 1 {
		step = float64(plotRight-plotLeft) / float64(len(percents)-1)
	}
	points := make([]string, len(percents))
	for i, p := range percents {
		x := plotLeft + step*float64(i)
		if len(percents) == 1 {
			x = (plotLeft + plotRight) / 2
		}
		y := plotBottom - (plotBottom-plotTop)*p/100
		points[i] = fmt.Sprintf("%.1f,%.1f", x, y)
		c.Dots = append(c.Dots, chartDot{X: x, Y: y, LabelY: lineChartHeight - 10, Label: labels[i], ValueText: format(p)})
	}
	c.Points = strings.Join(points, " ")
	return c
}

func maxFloat(a, b float64) float64 {
	if a > b {
		return a
	}
	return b
}

func truncate(s string, runes int) string {
	r := []rune(s)
	if len(r) <= runes {
		return s
	}
	return string(r[:runes-1]) + "…"
}
