using System.Text;
using Dclm.Chat.Tools.Syntax;

namespace Dclm.Chat.Tools;

/// <summary>
/// Separates one reply's function calls from its text as the text streams in. <see cref="Push"/> returns what
/// may be shown as content now and holds back whatever might be the start of a call; <see cref="Finish"/>
/// parses what was held. Text that only looked like a call (bad JSON, no name) comes back as content, so
/// nothing the model wrote is lost. The syntax itself is a <see cref="CallReader"/>.
/// </summary>
public sealed class ToolCallExtractor
{
    private readonly ToolCallFormat _format;
    private readonly CallReader _reader;
    private readonly bool _withCalls;
    private readonly StringBuilder _held = new();
    private bool _opened, _capturing, _passing;

    internal ToolCallExtractor(ToolCallFormat format, CallReader reader, bool withCalls) => (_format, _reader, _withCalls) = (format, reader, withCalls);

    /// <summary>Takes the next piece of the reply; returns the text that is certainly content (possibly empty).</summary>
    public string Push(string piece)
    {
        if (_passing) return piece;
        _held.Append(piece);
        if (_capturing) return "";
        if (!_opened)
        {
            var (opening, skip) = _reader.Open(_held.ToString());
            if (opening == Opening.Undecided) return "";
            _opened = true;
            if (opening == Opening.Calls && _withCalls) { _capturing = true; return ""; }
            if (opening == Opening.Text) _held.Remove(0, skip);
        }
        return ScanForOpeners();
    }

    /// <summary>Content up to the first marker that opens calls (then held from there on), less any tail that could still become one.</summary>
    private string ScanForOpeners()
    {
        string text = _held.ToString();
        var openers = _withCalls ? _reader.Openers : [];
        if (openers.Count == 0)
        {
            _passing = true;
            _held.Clear();
            return text;
        }
        int start = -1;
        foreach (string opener in openers)
        {
            int at = text.IndexOf(opener, StringComparison.Ordinal);
            if (at >= 0 && (start < 0 || at < start)) start = at;
        }
        if (start >= 0)
        {
            _capturing = true;
            _held.Remove(0, start);
            return text[..start];
        }
        int keep = openers.Max(opener => PartialMarker.Length(text, opener));
        _held.Remove(0, text.Length - keep);
        return text[..^keep];
    }

    /// <summary>
    /// The end of the reply: the content still held back (text after the calls, or all of it when the calls
    /// do not parse) and the calls, in order.
    /// </summary>
    public (string Content, IReadOnlyList<ToolCall> Calls) Finish()
    {
        if (!_opened && !_passing)
        {
            // The reply ended before its opening was clear: what the reader makes of the whole of it.
            var (opening, skip) = _reader.Open(_held.ToString());
            _opened = true;
            if (opening == Opening.Calls && _withCalls) _capturing = true;
            else if (opening == Opening.Text) _held.Remove(0, skip);
        }
        string held = _held.ToString();
        _held.Clear();
        if (!_capturing) return (held, []);
        if (_reader.Read(held) is not var (written, after))
        {
            Malformed = true;
            return (held, []);
        }
        return (after, written.Select(call => new ToolCall(_format.NewCallId(), call.Name, call.Arguments)).ToList());
    }

    /// <summary>After <see cref="Finish"/>: whether the reply started a call that did not parse (returned as text instead).</summary>
    public bool Malformed { get; private set; }
}
