package ycsb

import (
	"fmt"
	"image/color"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// Plot draws the runs one after another on one time axis: throughput
// above, p50, p99 and p99.9 latency below, a dotted line
// where each workload begins. The format follows path's extension
// (.png or .jpg).
func Plot(path, title string, results []Result) error {
	ext := strings.ToLower(filepath.Ext(path))
	if ext != ".png" && ext != ".jpg" && ext != ".jpeg" {
		return fmt.Errorf("plot %s: name a .png or .jpg file", path)
	}
	thr := plot.New()
	thr.Title.Text = title
	thr.Y.Label.Text = "ops/s"
	thr.Y.Min = 0
	lat := plot.New()
	lat.X.Label.Text = "seconds since the first workload began measuring"
	lat.Y.Label.Text = "latency (ms)"
	lat.Y.Min = 0

	// One line per workload and series, so that no line joins two runs.
	type series struct {
		name string
		c    color.RGBA
		p    *plot.Plot
		y    func(Tick) float64
	}
	all := []series{
		{"throughput", color.RGBA{R: 0x2e, G: 0x86, B: 0xc1, A: 255}, thr, func(t Tick) float64 { return t.OpsPerSec }},
		{"p50", color.RGBA{G: 0x99, B: 0x44, A: 255}, lat, func(t Tick) float64 { return ms(t.P50) }},
		{"p99", color.RGBA{R: 0xe6, G: 0x7e, B: 0x22, A: 255}, lat, func(t Tick) float64 { return ms(t.P99) }},
		{"p99.9", color.RGBA{R: 0xc0, G: 0x39, B: 0x2b, A: 255}, lat, func(t Tick) float64 { return ms(t.P999) }},
	}
	var offset float64
	var marks []float64
	drawn := map[string]bool{}
	for _, r := range results {
		marks = append(marks, offset)
		for _, sr := range all {
			var xy plotter.XYs
			for _, t := range r.Timeline {
				if sr.p == lat && t.Ops == 0 {
					continue
				}
				xy = append(xy, plotter.XY{X: offset + t.Elapsed.Seconds(), Y: sr.y(t)})
			}
			if len(xy) == 0 {
				continue
			}
			if err := addLine(sr.p, sr.name, xy, sr.c, !drawn[sr.name]); err != nil {
				return err
			}
			drawn[sr.name] = true
		}
		offset += r.Elapsed.Seconds()
	}
	if !drawn["throughput"] {
		return fmt.Errorf("plot %s: the runs recorded no interval to draw", path)
	}
	thr.Y.Tick.Marker = wholeTicks{}
	lat.Y.Tick.Marker = wholeTicks{}
	for i, r := range results {
		name := strings.ToUpper(r.Workload)
		if r.Distribution != "" {
			name += " " + string(r.Distribution)
		}
		for _, p := range []*plot.Plot{thr, lat} {
			if err := addMark(p, marks[i], name, p == thr); err != nil {
				return err
			}
		}
	}
	thr.Legend.Top = true
	lat.Legend.Top = true
	thr.X.Min, lat.X.Min = 0, 0
	thr.X.Max, lat.X.Max = offset, offset

	const w, h = 12 * vg.Inch, 8 * vg.Inch
	img := vgimg.New(w, h)
	dc := draw.New(img)
	plots := [][]*plot.Plot{{thr}, {lat}}
	tiles := draw.Tiles{Rows: 2, Cols: 1, PadTop: vg.Points(6), PadBottom: vg.Points(6), PadLeft: vg.Points(6), PadRight: vg.Points(12), PadY: vg.Points(10)}
	canvases := plot.Align(plots, tiles, dc)
	thr.Draw(canvases[0][0])
	lat.Draw(canvases[1][0])

	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("plot: %w", err)
	}
	defer f.Close()
	if ext == ".png" {
		_, err = vgimg.PngCanvas{Canvas: img}.WriteTo(f)
	} else {
		_, err = vgimg.JpegCanvas{Canvas: img}.WriteTo(f)
	}
	if err != nil {
		return fmt.Errorf("plot %s: %w", path, err)
	}
	return f.Close()
}

func ms(d time.Duration) float64 { return d.Seconds() * 1000 }

func addLine(p *plot.Plot, name string, xy plotter.XYs, c color.RGBA, legend bool) error {
	l, err := plotter.NewLine(xy)
	if err != nil {
		return fmt.Errorf("plot %s: %w", name, err)
	}
	l.Color = c
	l.Width = vg.Points(1.5)
	p.Add(l)
	if legend {
		p.Legend.Add(name, l)
	}
	return nil
}

// addMark draws where a workload began, named on the upper plot.
func addMark(p *plot.Plot, x float64, name string, label bool) error {
	if label {
		labels, err := plotter.NewLabels(plotter.XYLabels{XYs: plotter.XYs{{X: x, Y: 0}}, Labels: []string{" " + name}})
		if err != nil {
			return err
		}
		p.Add(labels)
	}
	if x > 0 {
		p.Add(vline(x))
	}
	return nil
}

// vline is a dotted vertical line across the whole plot at x.
type vline float64

func (v vline) Plot(c draw.Canvas, p *plot.Plot) {
	x := c.X(p.X.Norm(float64(v)))
	c.StrokeLine2(draw.LineStyle{Color: color.Gray{Y: 0x99}, Width: vg.Points(1), Dashes: []vg.Length{vg.Points(2), vg.Points(3)}},
		x, c.Min.Y, x, c.Max.Y)
}

// wholeTicks labels the default ticks without needless decimals.
type wholeTicks struct{}

func (wholeTicks) Ticks(lo, hi float64) []plot.Tick {
	ticks := plot.DefaultTicks{}.Ticks(lo, hi)
	for i := range ticks {
		if ticks[i].Label != "" {
			ticks[i].Label = strconv.FormatFloat(ticks[i].Value, 'f', -1, 64)
		}
	}
	return ticks
}
