namespace Dclm.Export.Onnx;

/// <summary>How the weights (and with them the activations) of an exported model are stored.</summary>
public enum OnnxWeightType
{
    /// <summary>float32 weights, activations, KV cache and logits: the reference, equal to the engine's logits.</summary>
    F32,
    /// <summary>float16 weights, activations, KV cache and logits (norms computed in float32): half the size, for GPUs.</summary>
    F16,
    /// <summary>
    /// Matrices as 4-bit blocks (<c>com.microsoft</c> <c>MatMulNBits</c>, symmetric, one float scale a block),
    /// embedding table float16, activations, KV cache and logits float32: what the model builder makes for CPUs.
    /// </summary>
    Int4,
}

/// <summary>Options of <see cref="OnnxExporter"/>; checked once by <see cref="Validate"/>.</summary>
public sealed record OnnxExportOptions
{
    /// <summary>Storage of the weights.</summary>
    public OnnxWeightType Type { get; init; } = OnnxWeightType.F32;
    /// <summary>Values per int4 block along a matrix's inputs: a power of two from 16 to 256 (the model builder's default is 32).</summary>
    public int BlockSize { get; init; } = 32;
    /// <summary>
    /// MatMulNBits' accuracy_level: 4 lets ONNX Runtime's CPU kernel quantise activations to int8 per block (the
    /// model builder's default for CPUs, fastest); 0 or 1 computes in float32.
    /// </summary>
    public int AccuracyLevel { get; init; } = 4;
    /// <summary>Longest sequence onnxruntime-genai is told to run (its <c>context_length</c> and <c>max_length</c>); null = the model's context.</summary>
    public int? ContextLength { get; init; }
    /// <summary>Weights in <c>model.onnx.data</c> even when the model is under 2 GB.</summary>
    public bool ExternalData { get; init; }

    /// <summary>Throws <see cref="ArgumentException"/> naming the option that is out of range for a model of <paramref name="modelContext"/> positions.</summary>
    public OnnxExportOptions Validate(int modelContext)
    {
        if (!Enum.IsDefined(Type)) throw new ArgumentException($"--type: {Type} is not one of f32, f16, int4");
        if (BlockSize is < 16 or > 256 || (BlockSize & (BlockSize - 1)) != 0)
            throw new ArgumentException($"--block-size: {BlockSize} must be a power of two from 16 to 256");
        if (AccuracyLevel is < 0 or > 4) throw new ArgumentException($"accuracy level {AccuracyLevel} must be in [0, 4]");
        if (ContextLength is int context && (context < 1 || context > modelContext))
            throw new ArgumentException($"--ctx: {context} must be in [1, {modelContext}], the model's context");
        return this;
    }
}
