namespace Dclm.Inference.Constraints;

/// <summary>
/// Limits which tokens may come next (constrained decoding). The sampler calls <see cref="Mask"/> before each
/// draw and <see cref="Accept"/> with the token drawn; one instance serves one sequence.
/// </summary>
public interface ITokenConstraint
{
    /// <summary>Sets the score of every token that may not come next to negative infinity.</summary>
    void Mask(Span<float> scores);

    /// <summary>Advances past <paramref name="token"/>, which <see cref="Mask"/> allowed.</summary>
    void Accept(int token);
}
