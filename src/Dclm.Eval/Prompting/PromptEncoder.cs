using Dclm.Eval.Scoring;
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
    private readonly IScoringModel _model;

    /// <param name="model">Encodes text (in process or through a server's /tokenize).</param>
    /// <param name="tokenizer">The local tokenizer, for tasks that generate text (null when scoring through a server).</param>
    public PromptEncoder(IScoringModel model, Tokenizer? tokenizer = null)
    {
        _model = model;
        Tokenizer = tokenizer;
        NeedsPrefixSpace = model.Encode(" a").Length == 1;
    }

    /// <summary>Whether continuations get a leading space (llm-foundry's <c>tokenizer_needs_prefix_space</c>).</summary>
    public bool NeedsPrefixSpace { get; }

    /// <summary>The local tokenizer, or null when text is encoded by a server.</summary>
    public Tokenizer? Tokenizer { get; }

    /// <summary>Preamble + context ids; the preamble gets the tokenizer's special tokens (a trailing EOS removed).</summary>
    public int[] Context(string preamble, string context, bool strip)
    {
        var ids = new List<int>();
        var head = _model.Encode(preamble, addSpecialTokens: true);
        if (head.Length > 1 && head[^1] == _model.EndOfSequenceId) head = head[..^1];
        ids.AddRange(head);
        ids.AddRange(_model.Encode(strip ? context.TrimEnd() : context));
        return ids.ToArray();
    }

    /// <summary>A continuation's text as scored: with the leading space the tokenizer needs.</summary>
    public string ContinuationText(string continuation) =>
        NeedsPrefixSpace && !continuation.StartsWith(' ') ? " " + continuation : continuation;

    /// <summary>Ids of <paramref name="text"/> by the model's tokenizer (in process or the server's).</summary>
    public int[] Encode(string text, bool addSpecialTokens = false) => _model.Encode(text, addSpecialTokens);

    /// <summary>A continuation's ids.</summary>
    public int[] Continuation(string continuation) => _model.Encode(ContinuationText(continuation));
}
