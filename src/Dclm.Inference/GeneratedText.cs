using System.Buffers;
using Dclm.Tokenizers;

namespace Dclm.Inference;

/// <summary>
/// The visible text of one generated sequence as its tokens arrive: bytes decoded without splitting a UTF-8 character,
/// text held back while it may be the start of a stop string, and cut before the first stop string. Each call returns
/// the newly visible characters as a span into a buffer it reuses, so the decode loop allocates nothing per token.
/// Without a tokenizer there is no text (and so no stop). One per sequence; not thread-safe.
/// </summary>
internal sealed class GeneratedText(Tokenizer? tokenizer, IReadOnlyList<string> stopStrings)
{
    private readonly StreamingDecoder? _decoder = tokenizer?.CreateStreamingDecoder(skipSpecialTokens: true);
    private readonly StopStringMatcher _stops = new(stopStrings);
    // Decoded text not shown yet at its front (shorter than the longest stop string, held back), then one token's new
    // text: sized for the longest token, so it never grows.
    private readonly ArrayBufferWriter<char> _pending = new(Math.Max(64, (tokenizer?.LongestTokenBytes ?? 0) + 4 + stopStrings.Sum(s => s.Length)));
    private int _shown;

    /// <summary>True once a stop string has appeared; the text ends before it and further tokens add nothing.</summary>
    public bool Stopped { get; private set; }

    /// <summary>Adds token <paramref name="id"/> and returns the text that became safe to show (often empty); valid until the next call.</summary>
    public ReadOnlySpan<char> Append(int id)
    {
        if (_decoder is null || Stopped) return [];
        Drop();
        _decoder.Append(id, _pending);
        return Release();
    }

    /// <summary>At the end of generation: the bytes and text still held back (nothing after a stop); valid until the next call.</summary>
    public ReadOnlySpan<char> Finish()
    {
        if (_decoder is null || Stopped) return [];
        Drop();
        _decoder.Flush(_pending);
        // Nothing more can follow, so text that could have begun a stop string is shown; a stop inside it still cuts.
        int ready = _stops.Release(_pending.WrittenSpan, out bool stopped);
        Stopped = stopped;
        _shown = stopped ? ready : _pending.WrittenCount;
        return _pending.WrittenSpan[.._shown];
    }

    private ReadOnlySpan<char> Release()
    {
        _shown = _stops.Release(_pending.WrittenSpan, out bool stopped);
        Stopped = stopped;
        return _pending.WrittenSpan[.._shown];
    }

    // Forgets the text the last call showed, keeping the held-back rest at the front.
    private void Drop()
    {
        if (_shown == 0) return;
        int held = _pending.WrittenCount - _shown;
        Span<char> rest = held <= 512 ? stackalloc char[held] : new char[held];
        _pending.WrittenSpan[_shown..].CopyTo(rest);
        _pending.ResetWrittenCount();
        rest.CopyTo(_pending.GetSpan(held));
        _pending.Advance(held);
        _shown = 0;
    }
}
