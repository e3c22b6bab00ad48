using Dclm.Models.Blocks;

namespace Dclm.Models.Architectures;

/// <summary>
/// Llama (Touvron et al., 2023), and Mistral: pre-norm blocks with RMSNorm, grouped-query attention with RoPE on q and k,
/// and a SwiGLU feed-forward.
/// </summary>
internal sealed class LlamaBlock : DecoderBlock
{
    public override void Forward(LayerStep step)
    {
        var w = step.Weights;

        // x += Wo · attention(rope(Wq·n(x)), rope(Wk·n(x)), Wv·n(x))
        var qkv = AttentionBlock.Project(step, w.AttentionNorm);
        for (int t = 0; t < step.Count; t++)
        {
            var (q, k, v) = qkv[t];
            step.Rope(t, q, k);
            AttentionBlock.Store(step, t, k, v);
        }
        AttentionBlock.Attend(step, qkv);

        // x += W_down · (silu(W_gate·n(x)) ⊙ W_up·n(x))
        SwiGluBlock.Forward(step, w.FeedForwardNorm);
    }
}
