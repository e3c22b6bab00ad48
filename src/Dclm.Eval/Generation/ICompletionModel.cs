namespace Dclm.Eval.Generation;

/// <summary>
/// What generation and code tasks need of a model: text generated after a prompt of token ids. Implemented in process
/// (<see cref="LocalCompletionModel"/>, the <see cref="Inference.TextGenerator"/>) and over HTTP against any
/// OpenAI-compatible completions endpoint (<see cref="Scoring.RemoteScoringModel"/>), so a task scores the same either way.
/// </summary>
public interface ICompletionModel
{
    /// <summary>Tokens the prompt and the generated text may hold together.</summary>
    int ContextLength { get; }

    /// <summary>The text generated after <paramref name="prompt"/>, ending before the first of <see cref="CompletionRequest.StopStrings"/>.</summary>
    string Complete(IReadOnlyList<int> prompt, CompletionRequest request, CancellationToken cancellation = default);

    /// <summary>
    /// Output stability (mean log-probability, entropy, repetition) of the last <see cref="Complete"/>, or null where the
    /// model cannot measure it (over HTTP the logits stay on the server).
    /// </summary>
    Inference.OutputStability? LastStability { get; }
}

/// <summary>
/// How to generate: at most <paramref name="MaxTokens"/> tokens, greedy at temperature 0, otherwise drawn from the
/// <paramref name="TopK"/> most likely (0 = all; top-p and min-p off) with <paramref name="Seed"/>; stopping at the
/// end-of-sequence token or before any of <paramref name="StopStrings"/>.
/// </summary>
public sealed record CompletionRequest(int MaxTokens, IReadOnlyList<string> StopStrings, float Temperature = 0, int TopK = 0, ulong Seed = 0)
{
    /// <summary><paramref name="text"/> cut before the first occurrence of any stop string.</summary>
    public string CutAtStop(string text)
    {
        int end = text.Length;
        foreach (var stop in StopStrings)
        {
            int at = text.IndexOf(stop, StringComparison.Ordinal);
            if (at >= 0 && at < end) end = at;
        }
        return text[..end];
    }
}
