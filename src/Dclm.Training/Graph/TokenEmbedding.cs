using Dclm.Tensors;
using Dclm.Tensors.Compute;
using Dclm.Training.Kernels;

namespace Dclm.Training.Graph;

/// <summary>The token embedding: a trainable fp32 table, or a frozen stored one whose rows are dequantized as they are looked up.</summary>
public sealed class TokenEmbedding
{
    private readonly ParameterTensor? _table;
    private readonly WeightMatrix _frozen;

    /// <summary>A trainable table. (vocab, dim)</summary>
    public TokenEmbedding(ParameterTensor table) => _table = table;

    /// <summary>A frozen table in any stored type. (vocab, dim)</summary>
    public TokenEmbedding(WeightMatrix frozen) => _frozen = frozen;

    /// <summary>Rows of the table.</summary>
    public int VocabularySize => _table?.Rows ?? _frozen.Rows;

    /// <summary>x[t] = E[tokens[t]]. (tokens, dim)</summary>
    public void Forward(ReadOnlySpan<int> tokens, int dim, Span<float> x)
    {
        if (_table is not null) { EmbeddingKernel.Forward(tokens, _table.Values, dim, x); return; }
        for (int t = 0; t < tokens.Length; t++)
        {
            if ((uint)tokens[t] >= (uint)_frozen.Rows) throw new ArgumentOutOfRangeException(nameof(tokens), $"token id {tokens[t]} is outside the vocabulary of {_frozen.Rows}");
            Dequantize.Row(_frozen, tokens[t], x.Slice(t * dim, dim));
        }
    }

    /// <summary>dE[tokens[t]] += dx[t] when the table trains.</summary>
    public void Backward(ReadOnlySpan<int> tokens, ReadOnlySpan<float> dx, int dim)
    {
        if (_table?.Gradient is { } gradient) EmbeddingKernel.Backward(tokens, dx, dim, gradient);
    }

    /// <summary>Whether the backward pass has anything to update here.</summary>
    public bool Trains => _table?.Trainable == true;
}
