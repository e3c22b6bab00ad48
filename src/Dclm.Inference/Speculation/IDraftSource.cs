namespace Dclm.Inference.Speculation;

/// <summary>
/// Proposes the tokens likely to follow a sequence, for the target model to check in one forward step.
/// A draft is a guess, never an answer: <see cref="DraftVerifier"/> keeps only what the target itself
/// would have chosen, so a bad source costs speed, never correctness. Drafts are deterministic (one token
/// per position, no distribution), which keeps the verification rule exact and simple.
/// </summary>
public interface IDraftSource
{
    /// <summary>
    /// Writes up to <c>destination.Length</c> tokens that may follow <paramref name="history"/> (prompt and
    /// generated tokens so far) and returns how many it wrote; 0 means no guess (plain decoding this step).
    /// </summary>
    int Draft(ReadOnlySpan<int> history, Span<int> destination);
}
