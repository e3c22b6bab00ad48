using Dclm.Checkpoints;
using Dclm.Export.Onnx;
using Dclm.Models;
using Dclm.Tensors;
using Dclm.Tensors.Quantization;
using Xunit.Abstractions;

namespace Dclm.Export.Tests;

/// <summary>The int4 export's MatMulNBits blocks, checked against ggml's Q4_0 and against the engine running Q4_0.</summary>
[Collection(ExportCollection.Name)]
public sealed class Int4Tests(ExportedModels models, ITestOutputHelper output)
{
    [Fact]
    public void BlocksOf32AreGgmlQ4_0Repacked()
    {
        // Q4_0 and symmetric MatMulNBits blocks of 32 differ only in layout: ggml's reference quantiser (which our
        // Quantizer reproduces bit for bit) and the exporter must give the same codes and scales.
        var random = new Random(3);
        var values = Enumerable.Range(0, 32 * 40).Select(_ => (float)(random.NextDouble() * 4 - 2)).ToArray();
        values[5] = 0; values.AsSpan(64, 32).Clear(); // a zero and an all-zero block
        var q4 = new byte[GgmlTypeInfo.ByteCount(GgmlType.Q4_0, values.Length)];
        Quantizer.QuantizeRow(GgmlType.Q4_0, values, q4);
        for (int b = 0; b < values.Length / 32; b++)
        {
            var codes = new byte[16];
            float scale = Int4BlockMatrix.QuantizeBlock(values.AsSpan(b * 32, 32), codes);
            var block = q4.AsSpan(b * 18, 18);
            Assert.Equal((float)BitConverter.ToHalf(block[..2]), (float)(Half)scale);
            for (int j = 0; j < 32; j++)
            {
                int ggml = j < 16 ? block[2 + j] & 0xF : block[2 + j - 16] >> 4;
                int ours = (codes[j / 2] >> (4 * (j % 2))) & 0xF;
                Assert.Equal(ggml, ours);
            }
        }
    }

    [Theory]
    [InlineData("openlm")]
    [InlineData("llama")]
    [InlineData("qwen3")]
    public void Q4_0ModelExportsToItsOwnLogits(string name)
    {
        // A Q4_0 GGUF's blocks go into MatMulNBits unchanged, so ONNX Runtime computing in float32 (accuracy level 0)
        // gives the logits of the same weights dequantised: the engine running the Q4_0 file converted to F32, with
        // the embedding table rounded to float16 as the int4 export stores it.
        string q4 = Path.Combine(models.Directory, $"{name}-q4_0.gguf"), dequantized = Path.Combine(models.Directory, $"{name}-q4_0-f32.gguf");
        using (var source = ModelLoader.Load(models.Model(name))) GgufExporter.Export(source, q4, GgmlType.Q4_0);
        using (var quantized = ModelLoader.Load(q4)) GgufExporter.Export(quantized, dequantized, GgmlType.F32);
        var tokens = models.Tokens(name, 48);

        float[] engine, engineQ4;
        int vocabulary;
        using (var plain = ModelLoader.Load(dequantized))
        {
            vocabulary = plain.Config.VocabularySize;
            engine = ForwardWithHalfEmbedding(plain, tokens);
        }
        string directory = Path.Combine(models.Directory, $"onnx-{name}-q4_0");
        using (var quantized = ModelLoader.Load(q4))
        {
            engineQ4 = Forward(quantized, tokens);
            OnnxExporter.Export(quantized, directory, new OnnxExportOptions { Type = OnnxWeightType.Int4, AccuracyLevel = 0 });
        }
        using var decoder = new OrtDecoder(Path.Combine(directory, OnnxExporter.ModelFileName));
        var onnx = decoder.Run(tokens);

        double error = LogitComparison.MaxRelativeError(onnx, engine, vocabulary);
        var f32 = models.EngineLogits(name, tokens);
        output.WriteLine($"{name}: int4 export of a Q4_0 file against the engine on its weights: max relative error {error:E2}; " +
            $"the engine's Q4_0 run (int8 activations) against its f32 model: top-1 {LogitComparison.TopOneAgreement(engineQ4, f32, vocabulary):P1}, " +
            $"KL {LogitComparison.MeanKullbackLeibler(engineQ4, f32, vocabulary):E2}");
        Assert.True(error <= 1e-4, $"logits differ by {error:E2} relative");
    }

    private static unsafe float[] ForwardWithHalfEmbedding(LoadedModel model, int[] tokens)
    {
        var w = model.Model.Weights;
        var table = w.TokenEmbedding;
        var half = new Half[(long)table.Rows * table.Columns];
        var row = new float[table.Columns];
        for (int r = 0; r < table.Rows; r++)
        {
            Tensors.Compute.Dequantize.Row(table, r, row);
            for (int c = 0; c < row.Length; c++) half[(long)r * table.Columns + c] = (Half)row[c];
        }
        fixed (Half* data = half)
        {
            var weights = new ModelWeights(new WeightMatrix((byte*)data, GgmlType.F16, table.Rows, table.Columns), w.Layers, w.FinalNorm, w.Output);
            using var rounded = new DecoderModel(model.Config, weights);
            var logits = new float[tokens.Length * model.Config.VocabularySize];
            rounded.Forward(ForwardBatch.Sequence(tokens, 0, allLogits: true), rounded.CreateCache(capacity: tokens.Length), logits);
            return logits;
        }
    }

    private static float[] Forward(LoadedModel model, int[] tokens)
    {
        var logits = new float[tokens.Length * model.Config.VocabularySize];
        model.Model.Forward(ForwardBatch.Sequence(tokens, 0, allLogits: true), model.Model.CreateCache(capacity: tokens.Length), logits);
        return logits;
    }
}
