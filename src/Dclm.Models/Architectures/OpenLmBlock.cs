using Dclm.Models.Blocks;

namespace Dclm.Models.Architectures;

/// <summary>
/// open_lm / DCLM (Li et al., 2024; open_lm's model.py): pre-norm blocks with gain-only LayerNorm (or RMSNorm, as the
/// config says), multi-head attention over q and k normalised over their full width (apply_qk_norm) before the head
/// split and RoPE, and a SwiGLU feed-forward. Positions are rotary, ALiBi (inside attention) or none.
/// </summary>
internal sealed class OpenLmBlock(ModelConfig config) : DecoderBlock
{
    private readonly bool _queryKeyNorm = config.QueryKeyNorm == QueryKeyNorm.FullWidth;

    public override void Forward(LayerStep step)
    {
        var w = step.Weights;

        // x += Wo · attention(rope(n_q(Wq·n(x))), rope(n_k(Wk·n(x))), Wv·n(x))
        var qkv = AttentionBlock.Project(step, w.AttentionNorm);
        if (_queryKeyNorm) step.FullWidthNorm.Apply(step, qkv);
        for (int t = 0; t < step.Count; t++)
        {
            var (q, k, v) = qkv[t];
            step.Rope(t, q, k);
            AttentionBlock.Store(step, t, k, v);
        }
        AttentionBlock.Attend(step, qkv);

        // x += W3 · (silu(W1·n(x)) ⊙ W2·n(x)), w12 = W1|W2
        SwiGluBlock.Forward(step, w.FeedForwardNorm);
    }
}
