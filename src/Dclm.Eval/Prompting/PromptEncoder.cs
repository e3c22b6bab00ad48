using Dclm.Tokenizers;

namespace Dclm.Eval.Prompting;

/// <summary>
/// Turns prompt text into token ids at llm-foundry's boundaries: the preamble (prompt string and shots)
/// is encoded on its own with special tokens, the question's context on its own (right-stripped when the
/// task strips data), and each continuation on its own with a leading space when the tokenizer is
/// GPT-2-style (" a" is one token), so a choice's first token is the same whatever precedes it.
/// </summary>
public sealed class PromptEncoder
{
    private readonly Tokenizer _tokenizer;

    public PromptEncoder(Tokenizer tokenizer)
    {
        _tokenizer = tokenizer;
        NeedsPrefixSpace = tokenizer.Encode(" a").Length == 1;
    }

    /// <summary>Whether continuations get a leading space (llm-foundry's <c>tokenizer_needs_prefix_space</c>).</summary>
    public bool NeedsPrefixSpace { get; }

    /// <summary>The tokenizer.</summary>
    public Tokenizer Tokenizer => _tokenizer;

    /// <summary>Preamble + context ids; the preamble gets the tokenizer's special tokens (a trailing EOS removed).</summary>
    public int[] Context(string preamble, string context, bool strip)
    {
        var ids = new List<int>();
        var head = _tokenizer.Encode(preamble, addSpecialTokens: true);
        if (head.Length > 1 && head[^1] == _tokenizer.EndOfSequenceId) head = head[..^1];
        ids.AddRange(head);
        ids.AddRange(_tokenizer.Encode(strip ? context.TrimEnd() : context));
        return ids.ToArray();
    }

    /// <summary>A continuation's text as scored: with the leading space the tokenizer needs.</summary>
    public string ContinuationText(string continuation) =>
        NeedsPrefixSpace && !continuation.StartsWith(' ') ? " " + continuation : continuation;

    /// <summary>A continuation's ids.</summary>
    public int[] Continuation(string continuation) => _tokenizer.Encode(ContinuationText(continuation));
}
