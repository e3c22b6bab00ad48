using System.Runtime.InteropServices;
using Dclm.Formats.Safetensors;
using Dclm.Tensors;

namespace Dclm.Training.Alignment;

/// <summary>
/// A reward model's scalar head: r = w · h, read from the final hidden state h (after the final norm) of a sequence's
/// last token, as Hugging Face's <c>…ForSequenceClassification</c> with one label scores it (a bias-free linear
/// <c>score</c> layer). Saved as <see cref="FileName"/> holding one F32 tensor <see cref="TensorName"/> of shape (1, dim).
/// </summary>
public sealed class RewardHead
{
    /// <summary>The head's file in a reward-model directory.</summary>
    public const string FileName = "reward_head.safetensors";
    /// <summary>The tensor's name, Hugging Face's for a sequence-classification head.</summary>
    public const string TensorName = "score.weight";

    private RewardHead(ParameterTensor weight) => Weight = weight;

    /// <summary>w, trainable. (1, dim)</summary>
    public ParameterTensor Weight { get; }

    /// <summary>The hidden width the head reads.</summary>
    public int Dim => Weight.Length;

    /// <summary>
    /// A new head with w drawn uniformly from ±1/√dim (PyTorch's <c>nn.Linear</c> default), so the adapters receive a
    /// gradient from the first step.
    /// </summary>
    public static RewardHead Create(int dim, ulong seed)
    {
        var weight = new ParameterTensor(TensorName, [1, dim], false);
        var random = new DeterministicRandom(seed ^ 0x5C0BE4EADUL);
        double bound = 1 / Math.Sqrt(dim);
        for (int i = 0; i < dim; i++) weight.Values[i] = (float)((random.NextDouble() * 2 - 1) * bound);
        return new RewardHead(weight);
    }

    /// <summary>The head saved in <paramref name="directory"/> (not trainable), checked against the model's width.</summary>
    public static RewardHead Read(string directory, int dim)
    {
        string path = Path.Combine(directory, FileName);
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no reward head here (a reward-model directory holds adapter/ and {FileName}, as dclm train-reward writes it)");
        using var file = SafetensorsFile.Open(path);
        if (!file.Tensors.TryGetValue(TensorName, out var entry)) throw new InvalidDataException($"{path}: tensor {TensorName} is missing");
        if (entry.Type != GgmlType.F32 || entry.ElementCount != dim)
            throw new InvalidDataException($"{path}: {TensorName} must be F32 of shape (1, {dim}) for this model, found {GgmlTypeInfo.Name(entry.Type)} with {entry.ElementCount} values");
        var weight = new ParameterTensor(TensorName, [1, dim], false, new float[dim], trainable: false);
        entry.Bytes.CopyTo(MemoryMarshal.AsBytes(weight.Values.AsSpan()));
        return new RewardHead(weight);
    }

    /// <summary>Writes the head into <paramref name="directory"/>.</summary>
    public void Write(string directory)
    {
        var writer = new SafetensorsWriter();
        var values = Weight.Values;
        writer.AddTensor(TensorName, GgmlType.F32, Weight.Shape, stream => stream.Write(MemoryMarshal.AsBytes(values.AsSpan())));
        writer.Write(Path.Combine(directory, FileName));
    }

    /// <summary>r = w · h, summed in double. <paramref name="hidden"/>: (dim)</summary>
    public double Score(ReadOnlySpan<float> hidden)
    {
        if (hidden.Length != Dim) throw new ArgumentException($"a hidden state of {hidden.Length} values, the head reads {Dim}");
        double sum = 0;
        for (int i = 0; i < hidden.Length; i++) sum += (double)Weight.Values[i] * hidden[i];
        return sum;
    }

    /// <summary>For ∂L/∂r = <paramref name="gradient"/>: adds g·h to ∂L/∂w (when w trains) and writes ∂L/∂h = g·w. (dim)</summary>
    public void Backward(ReadOnlySpan<float> hidden, double gradient, Span<float> hiddenGradient)
    {
        var w = Weight.Values;
        if (Weight.Gradient is { } dw)
            for (int i = 0; i < w.Length; i++) dw[i] += (float)(gradient * hidden[i]);
        for (int i = 0; i < w.Length; i++) hiddenGradient[i] = (float)(gradient * w[i]);
    }
}
