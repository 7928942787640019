package ui

import (
	"context"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/gatehouse/gatehouse/proxy/doctor"
	"github.com/gatehouse/gatehouse/store"
)

// doctorTimeout bounds one "Check now": a few network steps of up to 10 s.
const doctorTimeout = 90 * time.Second

// newCheckNowButton is the "Check now" button of the Providers rows and of a
// failed call's detail: what returns what to check ("provider" or
// "provider/model") when it is tapped.
func (a *App) newCheckNowButton(what func() string) *widget.Button {
	return widget.NewButtonWithIcon("Check now", theme.SearchIcon(), func() { a.checkNow(what()) })
}

// doctorTarget is what to check for a failed call: its last provider and the
// model sent to it.
func doctorTarget(c *store.Call) string {
	if c == nil || c.Provider == "" {
		return ""
	}
	if c.UpstreamModel != "" {
		return c.Provider + "/" + c.UpstreamModel
	}
	return c.Provider
}

// checkNow runs the doctor for what in the background and shows its reports
// in a dialog; on the UI thread.
func (a *App) checkNow(what string) {
	if a.b.Doctor == nil || a.win == nil || what == "" {
		return
	}
	status := widget.NewLabel("Checking " + what + "…")
	status.Wrapping = fyne.TextWrapWord
	results := container.NewVBox(status)
	scroll := container.NewVScroll(results)
	dlg := dialog.NewCustom("Check "+what, "Close", scroll, a.win)
	dlg.Resize(fyne.NewSize(720, 520))
	dlg.Show()
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), doctorTimeout)
		defer cancel()
		reps, err := a.b.Doctor(ctx, what)
		runOnUI(func() {
			results.RemoveAll()
			if err != nil {
				l := widget.NewLabel(err.Error())
				l.Wrapping = fyne.TextWrapWord
				l.Importance = widget.DangerImportance
				results.Add(l)
			}
			for i := range reps {
				results.Add(reportView(&reps[i]))
			}
			results.Refresh()
		})
	}()
}

// reportView shows one report: the verdict first, then each check with its
// fix.
func reportView(r *doctor.Report) fyne.CanvasObject {
	verdict := widget.NewLabelWithStyle(r.Verdict, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	verdict.Wrapping = fyne.TextWrapWord
	verdict.Importance = widget.SuccessImportance
	if r.Failed {
		verdict.Importance = widget.DangerImportance
	}
	form := container.NewVBox(verdict)
	for _, c := range r.Checks {
		text := c.Name + ": " + c.Detail
		if c.Fix != "" && (c.Status == doctor.Fail || c.Status == doctor.Warn) {
			text += "\nFix: " + c.Fix
		}
		l := widget.NewLabel(text)
		l.Wrapping = fyne.TextWrapWord
		icon := widget.NewIcon(checkIcon(c.Status))
		switch c.Status {
		case doctor.Fail:
			l.Importance = widget.DangerImportance
		case doctor.Warn:
			l.Importance = widget.WarningImportance
		case doctor.Skip:
			l.Importance = widget.LowImportance
		}
		form.Add(container.NewBorder(nil, nil, container.NewCenter(icon), nil, l))
	}
	return form
}

func checkIcon(s doctor.Status) fyne.Resource {
	switch s {
	case doctor.OK:
		return theme.ConfirmIcon()
	case doctor.Warn:
		return theme.WarningIcon()
	case doctor.Fail:
		return theme.ErrorIcon()
	}
	return theme.MoreHorizontalIcon()
}
