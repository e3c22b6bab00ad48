using Dclm.Models.Blocks;
using Dclm.Tensors.Ops;

namespace Dclm.Models.Architectures;

/// <summary>
/// Qwen3 (Yang et al., 2025): Llama's block with an RMS norm on each head of q and of k before RoPE (one gain of head
/// width shared by the heads), and a head width of its own (128 whatever the residual width).
/// </summary>
internal sealed class Qwen3Block(ModelConfig config) : DecoderBlock
{
    private readonly int _headDim = config.HeadDim;
    private readonly float _eps = config.NormEps;

    public override void Forward(LayerStep step)
    {
        var w = step.Weights;

        // x += Wo · attention(rope(rms_h(Wq·n(x))), rope(rms_h(Wk·n(x))), Wv·n(x))
        var qkv = AttentionBlock.Project(step, w.AttentionNorm);
        for (int t = 0; t < step.Count; t++)
        {
            var (q, k, v) = qkv[t];
            NormEachHead(q, w.QueryNorm);
            NormEachHead(k, w.KeyNorm);
            step.Rope(t, q, k);
            AttentionBlock.Store(step, t, k, v);
        }
        AttentionBlock.Attend(step, qkv);

        // x += W_down · (silu(W_gate·n(x)) ⊙ W_up·n(x))
        SwiGluBlock.Forward(step, w.FeedForwardNorm);
    }

    /// <summary>x_h ← x_h / sqrt(mean(x_h²) + eps) ⊙ gain for each head h of x.</summary>
    private void NormEachHead(Span<float> x, ReadOnlySpan<float> gain)
    {
        for (int h = 0; h + _headDim <= x.Length; h += _headDim) RmsNorm.Apply(x.Slice(h, _headDim), gain, _eps, x.Slice(h, _headDim));
    }
}
