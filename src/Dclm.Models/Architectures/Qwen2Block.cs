using System.Numerics.Tensors;
using Dclm.Models.Blocks;

namespace Dclm.Models.Architectures;

/// <summary>Qwen2 and Qwen2.5 (Yang et al., 2024): Llama's block with learned biases on the Q, K and V projections.</summary>
internal sealed class Qwen2Block : DecoderBlock
{
    public override void Forward(LayerStep step)
    {
        var w = step.Weights;

        // x += Wo · attention(rope(Wq·n(x) + bq), rope(Wk·n(x) + bk), Wv·n(x) + bv)
        var qkv = AttentionBlock.Project(step, w.AttentionNorm);
        for (int t = 0; t < step.Count; t++)
        {
            var (q, k, v) = qkv[t];
            TensorPrimitives.Add(q, w.QueryBias, q);
            TensorPrimitives.Add(k, w.KeyBias, k);
            TensorPrimitives.Add(v, w.ValueBias, v);
            step.Rope(t, q, k);
            AttentionBlock.Store(step, t, k, v);
        }
        AttentionBlock.Attend(step, qkv);

        // x += W_down · (silu(W_gate·n(x)) ⊙ W_up·n(x))
        SwiGluBlock.Forward(step, w.FeedForwardNorm);
    }
}
