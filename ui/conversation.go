package ui

import (
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/gatehouse/gatehouse/proxy/codec"
	"github.com/gatehouse/gatehouse/proxy/config"
)

// convBlock is one block of the conversation view: a message's part, with who
// wrote it and what it is, prepared off the UI thread.
type convBlock struct {
	head string // "user", "assistant · tool call get_weather (call_1)"
	text string
	mono bool // JSON arguments and results: monospace
	kind convKind
}

type convKind uint8

const (
	convText convKind = iota
	convSystem
	convTool
	convResult
	convThinking
	convError
)

// maxBlockText bounds what one block shows: a pasted file in a prompt would
// otherwise lay out megabytes of wrapped text.
const maxBlockText = 8 << 10

// conversationBlocks reads a call's request and response in the client's
// format through the proxy's canonical model (codec.ReadConversation): one
// block per message part, tool calls and results shown as such (issue 16 §3).
func conversationBlocks(format string, request, response, events []byte) []convBlock {
	if len(request) == 0 {
		return []convBlock{{head: "no request body", kind: convError}}
	}
	conv, err := codec.ReadConversation(config.Format(format), request, response, events)
	if err != nil {
		return []convBlock{{head: "not a conversation", text: err.Error(), kind: convError}}
	}
	var out []convBlock
	if len(conv.System) > 0 {
		var b strings.Builder
		for _, p := range conv.System {
			b.WriteString(p.Text)
		}
		out = append(out, convBlock{head: "system", text: b.String(), kind: convSystem})
	}
	if len(conv.Tools) > 0 {
		names := make([]string, len(conv.Tools))
		for i, t := range conv.Tools {
			names[i] = t.Name
		}
		out = append(out, convBlock{head: fmt.Sprintf("tools offered (%d)", len(names)), text: strings.Join(names, ", "), kind: convSystem})
	}
	for i, m := range conv.Messages {
		role := "user"
		if m.Role == codec.RoleAssistant {
			role = "assistant"
		}
		if conv.Answered && i == len(conv.Messages)-1 {
			role = "assistant (the answer)"
		}
		for _, p := range m.Parts {
			out = append(out, partBlock(role, p))
		}
		if len(m.Parts) == 0 {
			out = append(out, convBlock{head: role, text: "(empty)"})
		}
	}
	if !conv.Answered {
		out = append(out, convBlock{head: "no answer", text: "the response holds no message (an error, or a stream cut short): see Response", kind: convError})
	}
	return out
}

// partBlock is one message part as a block.
func partBlock(role string, p codec.Part) convBlock {
	switch p.Kind {
	case codec.PartToolCall:
		return convBlock{head: role + " · tool call " + p.ToolName + idNote(p.ToolID), text: prettyJSON([]byte(p.Args)), mono: true, kind: convTool}
	case codec.PartToolResult:
		head := role + " · tool result"
		if p.ToolName != "" {
			head += " of " + p.ToolName
		}
		if p.IsError {
			head += " (error)"
		}
		var b strings.Builder
		for _, r := range p.Result {
			if r.Kind == codec.PartText {
				b.WriteString(r.Text)
			} else {
				b.WriteString("[" + partName(r) + "]")
			}
		}
		return convBlock{head: head + idNote(p.ToolID), text: prettyJSON([]byte(b.String())), mono: true, kind: convResult}
	case codec.PartThinking, codec.PartRedactedThinking:
		return convBlock{head: role + " · thinking", text: p.Text, kind: convThinking}
	case codec.PartText:
		return convBlock{head: role, text: p.Text}
	}
	return convBlock{head: role, text: "[" + partName(p) + "]"}
}

func idNote(id string) string {
	if id == "" {
		return ""
	}
	return " (" + id + ")"
}

// partName names a media part: "image image/png", "document https://…".
func partName(p codec.Part) string {
	name := "image"
	if p.Kind == codec.PartDocument {
		name = "document"
	}
	switch {
	case p.URL != "":
		return name + " " + p.URL
	case p.MediaType != "":
		return fmt.Sprintf("%s %s, %s base64", name, p.MediaType, byteSize(len(p.Data)))
	}
	return name
}

// conversationView builds the blocks' widgets; on the UI thread.
func conversationView(blocks []convBlock) fyne.CanvasObject {
	box := container.NewVBox()
	for _, b := range blocks {
		head := widget.NewLabelWithStyle(b.head, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
		switch b.kind {
		case convSystem, convThinking:
			head.Importance = widget.LowImportance
		case convTool, convResult:
			head.Importance = widget.WarningImportance
		case convError:
			head.Importance = widget.DangerImportance
		default:
			if strings.HasPrefix(b.head, "assistant") {
				head.Importance = widget.SuccessImportance
			} else {
				head.Importance = widget.HighImportance
			}
		}
		box.Add(head)
		if b.text == "" {
			continue
		}
		text := b.text
		if len(text) > maxBlockText {
			text = text[:maxBlockText] + fmt.Sprintf(" … (%s more; see Request)", byteSize(len(b.text)-maxBlockText))
		}
		body := widget.NewLabelWithStyle(text, fyne.TextAlignLeading, fyne.TextStyle{Monospace: b.mono})
		body.Wrapping = fyne.TextWrapWord
		if b.mono {
			body.Wrapping = fyne.TextWrapBreak
		}
		body.Selectable = true
		box.Add(body)
	}
	return container.NewVScroll(box)
}
