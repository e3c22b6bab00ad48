using Dclm.Models;
using Dclm.Tensors.Compute;
using static Dclm.Training.Tests.GradientCheck;

namespace Dclm.Training.Tests;

/// <summary>The whole model's gradient against finite differences of an independent float64 forward.</summary>
public class ModelGradientTests
{
    [Theory]
    [InlineData(false, true, 0.0, false, 0, PositionEncoding.Rotary)]
    [InlineData(true, true, 1e-3, true, 0, PositionEncoding.Rotary)]
    [InlineData(false, false, 1e-4, false, 0, PositionEncoding.Rotary)]
    [InlineData(false, true, 0.0, false, 2, PositionEncoding.Rotary)]
    [InlineData(false, true, 0.0, true, 3, PositionEncoding.RotaryAlibi)]
    [InlineData(true, false, 0.0, false, 0, PositionEncoding.Alibi)]
    public void WholeModelGradientMatchesFiniteDifferences(bool tied, bool qkNorm, double zLoss, bool checkpointing, int window, PositionEncoding positions)
    {
        var layout = new ModelParameters(TinyModels.Config(tied, qkNorm) with { SlidingWindow = window, Positions = positions });
        using var pool = new ComputePool(2);
        var model = TrainingModel.Full(layout, pool);
        model.GradientCheckpointing = checkpointing;
        ParameterInitializer.Initialize(layout, 7);
        // Norm gains away from 1 so their gradients are exercised at a general point.
        var random = new Random(1);
        foreach (var t in layout.Tensors.Where(t => t.IsNorm))
            for (int i = 0; i < t.Length; i++) t.Values[i] = (float)(0.5 + random.NextDouble());
        model.ParametersChanged();
        const int batch = 2, sequence = 5;
        int[] inputs = [1, 4, 7, 12, 0, 3, 3, 9, 2, 11];
        int[] targets = [4, 7, 12, 0, -1, 3, 9, 2, 11, 5];
        model.ZeroGradients();
        var loss = model.ForwardBackward(inputs, targets, batch, sequence, (float)zLoss);
        var (parameters, offsets) = ReferenceModel.Flatten(layout.Tensors);
        var gradients = layout.Tensors.SelectMany(t => t.Gradient!).ToArray();
        double Loss(double[] p) => ReferenceModel.Loss(layout, offsets, p, inputs, targets, batch, sequence, zLoss);
        Xunit.Assert.Equal(Loss(parameters), loss.CrossEntropy + loss.ZLoss, 4);
        foreach (var tensor in layout.Tensors)
            Assert(parameters, Loss, gradients, tensor.Name, step: 1e-5,
                indices: Enumerable.Range(offsets[tensor], tensor.Length).Where(i => Math.Abs(gradients[i]) > 0 || !tensor.Name.Contains("tok_embeddings")));
    }
}
