using System.Runtime.InteropServices;
using Dclm.Checkpoints;
using Dclm.Tensors;
using Dclm.TestSupport;

namespace Dclm.Models.Tests;

/// <summary>Q|K|V and gate|up run as one product when their weights lie back to back; the bits must not change.</summary>
public unsafe class FusedProjectionTests
{
    [Fact]
    public void AdjacentMatricesJoinAndOthersDoNot()
    {
        byte* data = (byte*)NativeMemory.AllocZeroed(4096);
        try
        {
            var first = new WeightMatrix(data, GgmlType.F32, 4, 16);
            var second = new WeightMatrix(data + 4 * 64, GgmlType.F32, 2, 16);
            Assert.Equal((6, 16), WeightMatrix.Adjacent(first, second) is { } joined ? (joined.Rows, joined.Columns) : (0, 0));
            Assert.Null(WeightMatrix.Adjacent(first, new WeightMatrix(data + 4 * 64 + 4, GgmlType.F32, 2, 16)));
            Assert.Null(WeightMatrix.Adjacent(first, new WeightMatrix(data + 4 * 64, GgmlType.F32, 2, 32)));
            Assert.Null(WeightMatrix.Adjacent(first, new WeightMatrix(data + 4 * 64, GgmlType.F16, 2, 16)));
        }
        finally
        {
            NativeMemory.Free(data);
        }
    }

    [Fact]
    public void FusedAndSeparateProjectionsGiveIdenticalLogits()
    {
        var fixture = ReferenceFixture.Load("dclm-tiny");
        using var loaded = ModelLoader.Load(fixture.Directory);
        var layers = loaded.Model.Weights.Layers;
        // open_lm stores in_proj and w12 as single tensors, so the loaded model takes the fused path.
        Assert.All(layers, l => Assert.NotNull(WeightMatrix.Adjacent(l.Query, l.Key, l.Value)));
        Assert.All(layers, l => Assert.NotNull(WeightMatrix.Adjacent(l.Gate, l.Up)));

        var copies = new List<nint>();
        WeightMatrix Apart(WeightMatrix m)
        {
            // Each copy in its own allocation, with a gap, so nothing is adjacent any more.
            byte* copy = (byte*)NativeMemory.Alloc((nuint)(m.ByteLength + 64));
            copies.Add((nint)copy);
            Buffer.MemoryCopy(m.Data, copy + 32, m.ByteLength, m.ByteLength);
            return new WeightMatrix(copy + 32, m.Type, m.Rows, m.Columns);
        }
        try
        {
            var separate = layers.Select(l => new LayerWeights
            {
                AttentionNorm = l.AttentionNorm, Query = Apart(l.Query), Key = Apart(l.Key), Value = Apart(l.Value),
                QueryNorm = l.QueryNorm, KeyNorm = l.KeyNorm, Output = l.Output, FeedForwardNorm = l.FeedForwardNorm,
                Gate = Apart(l.Gate), Up = Apart(l.Up), Down = l.Down, RopeInverseFrequency = l.RopeInverseFrequency,
            }).ToArray();
            Assert.All(separate, l => Assert.Null(WeightMatrix.Adjacent(l.Query, l.Key, l.Value)));
            var weights = loaded.Model.Weights;
            var apart = new DecoderModel(loaded.Config, new ModelWeights(weights.TokenEmbedding, separate, weights.FinalNorm, weights.Output));

            Assert.Equal(ReferenceFixture.AllLogits(loaded.Model, fixture.Prompt), ReferenceFixture.AllLogits(apart, fixture.Prompt));
        }
        finally
        {
            foreach (nint copy in copies) NativeMemory.Free((void*)copy);
        }
    }

    [Theory]
    [InlineData("dclm-tiny")]
    [InlineData("dclm-tiny-bf16")]
    public void WeightsCopiedOutOfTheFileGiveIdenticalLogitsAndStayFused(string name)
    {
        var fixture = ReferenceFixture.Load(name);
        using var mapped = ModelLoader.Load(fixture.Directory, loading: WeightLoading.Mapped);
        using var copied = ModelLoader.Load(fixture.Directory, loading: WeightLoading.Copied);
        Assert.Equal(Formats.FileResidence.Mapped, mapped.Residence.Residence);
        Assert.Equal(Formats.FileResidence.Copied, copied.Residence.Residence);
        var layer = copied.Model.Weights.Layers[0];
        Assert.NotNull(WeightMatrix.Adjacent(layer.Query, layer.Key, layer.Value));
        Assert.NotNull(WeightMatrix.Adjacent(layer.Gate, layer.Up));
        Assert.True(mapped.Model.Weights.TokenEmbedding.Data != copied.Model.Weights.TokenEmbedding.Data);

        Assert.Equal(ReferenceFixture.AllLogits(mapped.Model, fixture.Prompt), ReferenceFixture.AllLogits(copied.Model, fixture.Prompt));
    }
}
