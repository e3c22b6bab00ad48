using System.Numerics.Tensors;

namespace Dclm.Training.Kernels;

/// <summary>Token embedding lookup, x[t] = E[token_t], and its backward dE[token_t] += dx[t].</summary>
public static class EmbeddingKernel
{
    /// <summary>Copies row tokens[t] of <paramref name="table"/> (vocab, dim) into row t of <paramref name="x"/>.</summary>
    public static void Forward(ReadOnlySpan<int> tokens, ReadOnlySpan<float> table, int dim, Span<float> x)
    {
        int vocabulary = table.Length / dim;
        for (int t = 0; t < tokens.Length; t++)
        {
            int token = tokens[t];
            if ((uint)token >= (uint)vocabulary) throw new ArgumentOutOfRangeException(nameof(tokens), $"token id {token} is outside the vocabulary of {vocabulary}");
            table.Slice(token * dim, dim).CopyTo(x.Slice(t * dim, dim));
        }
    }

    /// <summary>Adds row t of <paramref name="dx"/> into row tokens[t] of <paramref name="tableGradient"/>, in token order.</summary>
    public static void Backward(ReadOnlySpan<int> tokens, ReadOnlySpan<float> dx, int dim, Span<float> tableGradient)
    {
        for (int t = 0; t < tokens.Length; t++)
        {
            var row = tableGradient.Slice(tokens[t] * dim, dim);
            TensorPrimitives.Add(row, dx.Slice(t * dim, dim), row);
        }
    }
}
