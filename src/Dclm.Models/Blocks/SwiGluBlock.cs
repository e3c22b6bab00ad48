using Dclm.Tensors.Ops;

namespace Dclm.Models.Blocks;

/// <summary>The feed-forward half of a block, shared by every architecture: x += W_down · (silu(W_gate·n(x)) ⊙ W_up·n(x)).</summary>
internal static class SwiGluBlock
{
    /// <summary>Runs the feed-forward over every token, with n the model's norm of gain <paramref name="normGain"/>.</summary>
    public static void Forward(LayerStep step, float[] normGain)
    {
        var s = step.State;
        var gateUp = step.Projections.GateUp;
        int hidden = step.Config.HiddenDim, width = gateUp.Outputs;
        gateUp.Apply(step.Rows, step.NormResidual(normGain), s.Projected);
        for (int t = 0; t < step.Count; t++)
            SwiGlu.Apply(s.Projected.AsSpan(t * width, hidden), s.Projected.AsSpan(t * width + hidden, hidden), s.Hidden.AsSpan(t * hidden, hidden));
        step.Projections.Down.Apply(step.Rows, s.Hidden, s.BlockOutput);
        step.AddToResidual();
    }
}
