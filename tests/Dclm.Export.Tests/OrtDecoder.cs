using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Dclm.Export.Tests;

/// <summary>
/// Runs an exported decoder with ONNX Runtime the way onnxruntime-genai drives it: each call feeds new tokens with
/// the attention mask over every token so far and the previous call's present.{i}.key/value as past_key_values.
/// One sequence (batch 1) or several of equal length.
/// </summary>
public sealed class OrtDecoder : IDisposable
{
    private readonly InferenceSession _session;
    private readonly int _layers, _kvHeads, _headDim, _vocabulary, _batch;
    private readonly bool _half;
    private OrtValue[] _past;
    private long[] _mask;

    /// <param name="modelPath">model.onnx.</param>
    /// <param name="batch">Sequences run side by side.</param>
    public OrtDecoder(string modelPath, int batch = 1)
    {
        var options = new SessionOptions { IntraOpNumThreads = 2, GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        _session = new InferenceSession(modelPath, options);
        var past = _session.InputMetadata["past_key_values.0.key"];
        _half = past.ElementDataType == TensorElementType.Float16;
        _layers = _session.InputMetadata.Keys.Count(k => k.StartsWith("past_key_values.", StringComparison.Ordinal) && k.EndsWith(".key", StringComparison.Ordinal));
        _kvHeads = past.Dimensions[1];
        _headDim = past.Dimensions[3];
        _vocabulary = _session.OutputMetadata["logits"].Dimensions[2];
        _batch = batch;
        _mask = [];
        _past = Enumerable.Range(0, 2 * _layers).Select(_ => EmptyCache()).ToArray();
    }

    /// <summary>Tokens so far, per sequence.</summary>
    public int Length => _mask.Length / _batch;

    /// <summary>
    /// Runs <paramref name="tokens"/> (batch × count, row-major) after everything before; <paramref name="mask"/> is
    /// their attention mask (1 = token, 0 = padding; all 1 when null). Returns the logits (batch, count, vocab) as float.
    /// </summary>
    public float[] Run(int[] tokens, long[]? mask = null)
    {
        int count = tokens.Length / _batch;
        mask ??= Enumerable.Repeat(1L, tokens.Length).ToArray();
        // The mask covers every token so far: each sequence's old columns, then its new ones.
        var total = new long[_batch * (Length + count)];
        for (int b = 0; b < _batch; b++)
        {
            _mask.AsSpan(b * Length, Length).CopyTo(total.AsSpan(b * (Length + count)));
            mask.AsSpan(b * count, count).CopyTo(total.AsSpan(b * (Length + count) + Length));
        }
        using var ids = OrtValue.CreateTensorValueFromMemory(tokens.Select(t => (long)t).ToArray(), [_batch, count]);
        using var attention = OrtValue.CreateTensorValueFromMemory(total, [_batch, Length + count]);
        var names = new List<string> { "input_ids", "attention_mask" };
        var values = new List<OrtValue> { ids, attention };
        for (int i = 0; i < _layers; i++)
        {
            names.Add($"past_key_values.{i}.key");
            names.Add($"past_key_values.{i}.value");
            values.Add(_past[2 * i]);
            values.Add(_past[2 * i + 1]);
        }
        var outputs = new List<string> { "logits" };
        for (int i = 0; i < _layers; i++) outputs.AddRange([$"present.{i}.key", $"present.{i}.value"]);
        using var runOptions = new RunOptions();
        var results = _session.Run(runOptions, names, values, outputs);
        float[] logits = _half
            ? results[0].GetTensorDataAsSpan<Float16>().ToArray().Select(h => (float)h).ToArray()
            : results[0].GetTensorDataAsSpan<float>().ToArray();
        results[0].Dispose();
        foreach (var old in _past) old.Dispose();
        _past = results.Skip(1).ToArray();
        _mask = total;
        if (logits.Length != _batch * count * _vocabulary) throw new InvalidOperationException($"logits hold {logits.Length} values, not {_batch}×{count}×{_vocabulary}");
        return logits;
    }

    private OrtValue EmptyCache() => OrtValue.CreateAllocatedTensorValue(OrtAllocator.DefaultInstance,
        _half ? TensorElementType.Float16 : TensorElementType.Float, [_batch, _kvHeads, 0, _headDim]);

    public void Dispose()
    {
        foreach (var value in _past) value.Dispose();
        _session.Dispose();
    }
}
