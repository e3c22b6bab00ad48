using Dclm.Models;
using Dclm.Tokenizers;

namespace Dclm.Inference;

/// <summary>One streamed piece of generated text and the token that completed it.</summary>
public readonly record struct TextChunk(int TokenId, string Text);

/// <summary>
/// Streams text from a model: tokens come from <see cref="TokenGenerator"/>, bytes are decoded without
/// splitting UTF-8 sequences, and stop strings end generation before they are shown.
/// </summary>
public sealed class TextGenerator(IDecoderModel model, Tokenizer tokenizer, KvCacheType kvCacheType = KvCacheType.F32,
    Speculation.SpeculativeDecoding? speculation = null)
{
    private readonly TokenGenerator _tokens = new(model, tokenizer.EndOfSequenceId, kvCacheType, speculation);

    /// <summary>Why the last generation ended.</summary>
    public FinishReason FinishReason { get; private set; }

    /// <summary>How speculation went in the last generation; null without speculation.</summary>
    public Speculation.SpeculationStatistics? Speculation => _tokens.Speculation;

    /// <summary>Token ids produced by the last generation (including ones whose text a stop string hid).</summary>
    public List<int> GeneratedTokens { get; } = [];

    /// <summary>How the last generation looked to the model (log-probability, entropy, repetition, empty, cut); complete once it has ended.</summary>
    public OutputStability Stability => _tokens.Stability.Result(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(GeneratedTokens), FinishReason);

    /// <summary>
    /// Yields text as it becomes safe to show; the chunk text may be empty while bytes are held back.
    /// <paramref name="constraint"/> limits which tokens may come next (JSON mode, a JSON schema).
    /// </summary>
    public IEnumerable<TextChunk> Generate(IReadOnlyList<int> prompt, SamplingOptions options, CancellationToken cancellation = default,
        Constraints.ITokenConstraint? constraint = null)
    {
        GeneratedTokens.Clear();
        FinishReason = FinishReason.None;
        var text = new GeneratedText(tokenizer, options.StopStrings);
        foreach (int id in _tokens.Generate(prompt, options, cancellation, constraint))
        {
            GeneratedTokens.Add(id);
            var piece = text.Append(id);
            _tokens.Stability.Text(piece);
            yield return new TextChunk(id, new string(piece));
            if (text.Stopped)
            {
                FinishReason = FinishReason.Stop;
                yield break;
            }
        }
        FinishReason = _tokens.FinishReason;
        var end = text.Finish();
        _tokens.Stability.Text(end);
        string rest = new(end);
        if (rest.Length > 0) yield return new TextChunk(-1, rest);
    }
}
