using System.Text;

namespace Dclm.Chat.Replies;

/// <summary>
/// Separates a reasoning model's thinking (<c>&lt;think&gt;…&lt;/think&gt;</c>, as DeepSeek R1 and Qwen3 write it)
/// from its answer as the reply streams in. A reply starts inside the thinking when the prompt already opened it
/// (DeepSeek R1's template ends with <c>&lt;think&gt;\n</c>); otherwise only a reply that begins with
/// <c>&lt;think&gt;</c> has any. Thinking that never closes is all reasoning, as llama.cpp reads it. Other markers
/// may stand for <c>&lt;think&gt;</c> and <c>&lt;/think&gt;</c> (Command R7B's <c>&lt;|START_THINKING|&gt;</c>).
/// </summary>
public sealed class ReasoningSplitter
{
    private readonly string Open, Close;
    private readonly StringBuilder _held = new();
    private State _state;

    private enum State { Undecided, Thinking, AnswerStart, Answer }

    /// <param name="startsInside">Whether the prompt ended inside an open <c>&lt;think&gt;</c> block.</param>
    /// <param name="open">The marker that opens the thinking.</param>
    /// <param name="close">The marker that closes it.</param>
    public ReasoningSplitter(bool startsInside, string open = "<think>", string close = "</think>")
    {
        (Open, Close) = (open, close);
        _state = startsInside ? State.Thinking : State.Undecided;
    }

    /// <summary>Takes the next piece; returns the reasoning and the answer text that are certain now.</summary>
    public (string Reasoning, string Content) Push(string piece)
    {
        if (_state == State.Answer) return ("", piece);
        _held.Append(piece);
        string reasoning = "";
        while (true)
        {
            string text = _held.ToString();
            switch (_state)
            {
                case State.Undecided:
                {
                    string start = text.TrimStart();
                    if (start.StartsWith(Open, StringComparison.Ordinal))
                    {
                        _held.Clear().Append(start[Open.Length..]);
                        _state = State.Thinking;
                        continue;
                    }
                    if (start.Length == 0 || Open.StartsWith(start, StringComparison.Ordinal)) return (reasoning, "");
                    _state = State.Answer;
                    _held.Clear();
                    return (reasoning, text);
                }
                case State.Thinking:
                {
                    int end = text.IndexOf(Close, StringComparison.Ordinal);
                    if (end >= 0)
                    {
                        reasoning += text[..end];
                        _held.Clear().Append(text[(end + Close.Length)..]);
                        _state = State.AnswerStart;
                        continue;
                    }
                    int keep = PartialMarker.Length(text, Close);
                    _held.Remove(0, text.Length - keep);
                    return (reasoning + text[..^keep], "");
                }
                case State.AnswerStart:
                {
                    // The blank lines a model writes after </think> belong to neither part.
                    string answer = text.TrimStart();
                    if (answer.Length == 0) return (reasoning, "");
                    _state = State.Answer;
                    _held.Clear();
                    return (reasoning, answer);
                }
                default:
                    _held.Clear();
                    return (reasoning, text);
            }
        }
    }

    /// <summary>The end of the reply: whatever was still held back, in the part it belongs to.</summary>
    public (string Reasoning, string Content) Finish()
    {
        string text = _held.ToString();
        _held.Clear();
        return _state switch
        {
            State.Thinking => (text, ""), // never closed: all of it was thinking
            State.AnswerStart => ("", ""), // only the blank lines after </think>
            _ => ("", text), // whitespace or the start of "<think>" that never completed: answer text
        };
    }
}
