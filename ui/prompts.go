package ui

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/gatehouse/gatehouse/proxy"
	"github.com/gatehouse/gatehouse/proxy/config"
)

// Prompts is the prompt endpoints of config.toml, as the Prompts screen
// creates, edits and tries them (issue 13).
type Prompts interface {
	// List returns the prompts in force, sorted by name.
	List() []config.Prompt
	// SavePrompt adds p, or sets the fields of the prompt of its name, in the
	// config file (comments kept).
	SavePrompt(p config.Prompt) error
	// RemovePrompt deletes the prompt from the config file.
	RemovePrompt(name string) error
	// Run calls the prompt with vars through the proxy; it is recorded in
	// history.
	Run(name string, vars map[string]string) (proxy.PromptResult, error)
}

// PromptFile is Prompts on config.toml and the running proxy.
type PromptFile struct {
	ConfigFile
	// Runner runs a prompt in the proxy; *proxy.Server implements it.
	Runner interface {
		RunPrompt(name string, vars map[string]string) (proxy.PromptResult, error)
	}
}

var _ Prompts = PromptFile{}

func (f PromptFile) List() []config.Prompt {
	ps := append([]config.Prompt(nil), f.Current().Prompts...)
	sort.Slice(ps, func(i, j int) bool { return ps[i].Name < ps[j].Name })
	return ps
}

func (f PromptFile) SavePrompt(p config.Prompt) error {
	if err := p.CheckPrompt(); err != nil {
		return err
	}
	_, exists := f.Current().Prompt(p.Name)
	err := f.edit(func(src []byte) ([]byte, error) {
		if !exists {
			return config.AddPrompt(src, p)
		}
		var err error
		for _, kv := range config.PromptValues(p) {
			if src, err = config.SetValue(src, config.Section{Prompt: p.Name}, kv.Key, kv.Value); err != nil {
				return nil, err
			}
		}
		return src, nil
	})
	if err != nil {
		return fmt.Errorf("save prompt %s: %w", p.Name, err)
	}
	return nil
}

func (f PromptFile) RemovePrompt(name string) error {
	if err := f.edit(func(src []byte) ([]byte, error) { return config.RemovePrompt(src, name) }); err != nil {
		return fmt.Errorf("remove prompt %s: %w", name, err)
	}
	return nil
}

func (f PromptFile) Run(name string, vars map[string]string) (proxy.PromptResult, error) {
	return f.Runner.RunPrompt(name, vars)
}

// promptsScreen lists the prompts, edits one, and tries it: one entry per
// variable, the output, its usage and a link to the call in History.
type promptsScreen struct {
	a       *App
	content fyne.CanvasObject

	list                           *widget.List
	prompts                        []config.Prompt
	editing                        string // the prompt being edited; "" for a new one
	name, model, system, template  *widget.Entry
	temperature, maxTokens, schema *widget.Entry
	format                         *widget.Select
	status                         *widget.Label
	vars                           *fyne.Container
	varEntries                     map[string]*widget.Entry
	output                         *widget.Entry
	usage                          *widget.Label
	run, showCall, remove          *widget.Button
	callID                         string
}

func newPromptsScreen(a *App) *promptsScreen {
	s := &promptsScreen{a: a, varEntries: map[string]*widget.Entry{}}
	s.list = widget.NewList(func() int { return len(s.prompts) },
		func() fyne.CanvasObject { return widget.NewLabel("template prompt name") },
		func(i widget.ListItemID, o fyne.CanvasObject) { o.(*widget.Label).SetText(s.prompts[i].Name) })
	s.list.OnSelected = func(i widget.ListItemID) { s.edit(s.prompts[i]) }
	newBtn := widget.NewButtonWithIcon("New prompt", theme.ContentAddIcon(), func() {
		s.list.UnselectAll()
		s.edit(config.Prompt{Template: "{{input}}"})
	})

	s.name = hintEntry("summarize")
	s.model = hintEntry("a model or route: gpt-4.1-mini, smart, anthropic/claude-sonnet-4-5")
	s.system, s.template, s.schema = widget.NewMultiLineEntry(), widget.NewMultiLineEntry(), widget.NewMultiLineEntry()
	s.system.SetPlaceHolder("optional system prompt")
	s.template.SetPlaceHolder("Summarize in {{lang}}:\n{{input}}")
	s.template.SetMinRowsVisible(4)
	s.template.OnChanged = func(string) { s.showVars() }
	s.system.OnChanged = s.template.OnChanged
	s.schema.SetPlaceHolder(`JSON Schema, with format json_schema: {"type":"object",...}`)
	s.temperature, s.maxTokens = hintEntry("model default"), hintEntry("model default")
	s.format = widget.NewSelect([]string{"text", "json_object", "json_schema"}, nil)
	s.status = lowLabel("")
	s.status.Wrapping = fyne.TextWrapWord
	save := widget.NewButtonWithIcon("Save", theme.DocumentSaveIcon(), s.save)
	save.Importance = widget.HighImportance
	s.remove = widget.NewButtonWithIcon("Delete", theme.DeleteIcon(), s.confirmRemove)
	form := widget.NewForm(
		widget.NewFormItem("Name", s.name),
		widget.NewFormItem("Model", s.model),
		widget.NewFormItem("System", s.system),
		widget.NewFormItem("Template", s.template),
		widget.NewFormItem("Temperature / max tokens", container.NewGridWithColumns(2, s.temperature, s.maxTokens)),
		widget.NewFormItem("Response format", s.format),
		widget.NewFormItem("JSON schema", s.schema),
	)
	s.vars = container.NewVBox()
	s.output = widget.NewMultiLineEntry()
	s.output.SetMinRowsVisible(5)
	s.output.Wrapping = fyne.TextWrapWord
	s.usage = lowLabel("")
	s.run = widget.NewButtonWithIcon("Run", theme.MediaPlayIcon(), s.try)
	s.showCall = widget.NewButtonWithIcon("Show in History", theme.ListIcon(), func() { s.a.Reveal(TabHistory, s.callID) })
	s.showCall.Disable()
	try := widget.NewCard("Try it", "Saved prompts run through the proxy and appear in History", container.NewVBox(
		s.vars, container.NewHBox(s.run, s.showCall), s.output, s.usage))
	help := lowLabel("Call a prompt as the model prompt/NAME from any tool (its last message fills {{input}}), " +
		"or POST /v1/prompts/NAME with {\"variables\": {...}}.")
	help.Wrapping = fyne.TextWrapWord
	editor := container.NewVScroll(container.NewVBox(
		widget.NewCard("Prompt", "", container.NewVBox(form, container.NewHBox(save, s.remove), s.status)), try, help))
	split := container.NewHSplit(container.NewBorder(newBtn, nil, nil, nil, s.list), editor)
	split.Offset = 0.22
	s.content = split
	if a.b.Prompts == nil {
		save.Disable()
		s.run.Disable()
		s.status.SetText("prompts are not available in this window")
	}
	s.edit(config.Prompt{Template: "{{input}}"})
	return s
}

// refresh reloads the list from the config in force; on the UI thread.
func (s *promptsScreen) refresh() {
	if s.a.b.Prompts == nil {
		return
	}
	s.prompts = s.a.b.Prompts.List()
	s.list.Refresh()
	if s.editing == "" && s.name.Text == "" && len(s.prompts) > 0 {
		s.list.Select(0) // show one rather than an empty form
	}
}

// edit fills the form with p.
func (s *promptsScreen) edit(p config.Prompt) {
	s.editing = p.Name
	s.name.SetText(p.Name)
	if p.Name != "" {
		s.name.Disable()
		s.remove.Enable()
	} else {
		s.name.Enable()
		s.remove.Disable()
	}
	s.model.SetText(p.Model)
	s.system.SetText(p.System)
	s.template.SetText(p.Template)
	s.temperature.SetText("")
	if p.Temperature != nil {
		s.temperature.SetText(strconv.FormatFloat(*p.Temperature, 'f', -1, 64))
	}
	s.maxTokens.SetText("")
	if p.MaxTokens > 0 {
		s.maxTokens.SetText(strconv.Itoa(p.MaxTokens))
	}
	s.format.SetSelected(p.ResponseFormat)
	if p.ResponseFormat == "" {
		s.format.SetSelected("text")
	}
	s.schema.SetText(p.JSONSchema)
	s.status.SetText("")
	s.output.SetText("")
	s.usage.SetText("")
	s.showVars()
}

// form reads the editor into a prompt.
func (s *promptsScreen) form() (config.Prompt, error) {
	p := config.Prompt{Name: strings.TrimSpace(s.name.Text), Model: strings.TrimSpace(s.model.Text),
		System: s.system.Text, Template: s.template.Text, JSONSchema: strings.TrimSpace(s.schema.Text)}
	if f := s.format.Selected; f != "text" {
		p.ResponseFormat = f
	}
	if t := strings.TrimSpace(s.temperature.Text); t != "" {
		v, err := strconv.ParseFloat(t, 64)
		if err != nil {
			return p, fmt.Errorf("temperature: %q is not a number", t)
		}
		p.Temperature = &v
	}
	if m := strings.TrimSpace(s.maxTokens.Text); m != "" {
		n, err := strconv.Atoi(m)
		if err != nil || n < 0 {
			return p, fmt.Errorf("max tokens: %q is not a whole number", m)
		}
		p.MaxTokens = n
	}
	return p, p.CheckPrompt()
}

// showVars makes one entry per variable of the system prompt and template.
func (s *promptsScreen) showVars() {
	p := config.Prompt{System: s.system.Text, Template: s.template.Text}
	names := p.Variables()
	old := s.varEntries
	s.varEntries = map[string]*widget.Entry{}
	s.vars.RemoveAll()
	for _, n := range names {
		e := old[n]
		if e == nil {
			e = widget.NewMultiLineEntry()
			e.SetMinRowsVisible(2)
			e.SetPlaceHolder("value of {{" + n + "}}")
		}
		s.varEntries[n] = e
		s.vars.Add(container.NewBorder(nil, nil, container.NewGridWrap(fyne.NewSize(110, 36), widget.NewLabel(n)), nil, e))
	}
	s.vars.Refresh()
}

func (s *promptsScreen) save() {
	p, err := s.form()
	if err != nil {
		s.say(widget.DangerImportance, err.Error())
		return
	}
	if s.editing == "" {
		for _, q := range s.prompts {
			if q.Name == p.Name {
				s.say(widget.DangerImportance, fmt.Sprintf("a prompt named %s exists: pick it in the list to edit it", p.Name))
				return
			}
		}
	}
	go func() {
		err := s.a.b.Prompts.SavePrompt(p)
		runOnUI(func() {
			if err != nil {
				s.say(widget.DangerImportance, "not saved: "+err.Error())
				return
			}
			s.refresh()
			s.editing = p.Name
			s.name.Disable()
			s.remove.Enable()
			s.say(widget.SuccessImportance, "Saved to config.toml: call it as the model prompt/"+p.Name+" or POST /v1/prompts/"+p.Name)
		})
	}()
}

func (s *promptsScreen) say(imp widget.Importance, msg string) {
	s.status.Importance = imp
	s.status.SetText(msg)
}

func (s *promptsScreen) confirmRemove() {
	name := s.editing
	if name == "" {
		return
	}
	s.a.confirmThen("Delete prompt "+name+"?", "Remove the [[prompt]] table "+name+" from config.toml.",
		func() error { return s.a.b.Prompts.RemovePrompt(name) },
		func(err error) {
			if err != nil {
				s.say(widget.DangerImportance, err.Error())
				return
			}
			s.refresh()
			s.list.UnselectAll()
			s.edit(config.Prompt{Template: "{{input}}"})
		})
}

// try runs the saved prompt with the variables entered.
func (s *promptsScreen) try() {
	name := s.editing
	if name == "" {
		s.say(widget.DangerImportance, "save the prompt first: Run calls the saved one")
		return
	}
	vars := make(map[string]string, len(s.varEntries))
	for n, e := range s.varEntries {
		vars[n] = e.Text
	}
	s.run.Disable()
	s.output.SetText("running…")
	s.usage.SetText("")
	go func() {
		res, err := s.a.b.Prompts.Run(name, vars)
		runOnUI(func() {
			s.run.Enable()
			if err != nil {
				s.output.SetText("")
				s.usage.Importance = widget.DangerImportance
				s.usage.SetText(err.Error())
			} else {
				s.output.SetText(res.Output)
				s.usage.Importance = widget.LowImportance
				s.usage.SetText(fmt.Sprintf("%s tokens in, %s out · call %s", count(res.Usage.InputTokens), count(res.Usage.OutputTokens), res.CallID))
			}
			s.callID = res.CallID
			if s.callID != "" {
				s.showCall.Enable()
			} else {
				s.showCall.Disable()
			}
		})
	}()
}

func count(p *int64) string {
	if p == nil {
		return "?"
	}
	return thousands(*p)
}
