using System.Text.Json;
using Dclm.Formats.Onnx;

namespace Dclm.Cli.Tests;

/// <summary>
/// `dclm export onnx` end to end: the directory onnxruntime-genai reads. That ONNX Runtime computes the engine's
/// logits from it is checked in Dclm.Export.Tests; here, the command's options reach the files.
/// </summary>
public sealed class ExportCommandTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("dclm-cli-export-").FullName;

    [Theory]
    [InlineData("f32", TensorProto.Types.DataType.Float)]
    [InlineData("int4", TensorProto.Types.DataType.Float)]
    [InlineData("f16", TensorProto.Types.DataType.Float16)]
    public void WritesTheModelBuildersLayout(string type, TensorProto.Types.DataType logitsType)
    {
        string output = Path.Combine(_directory, type);
        var result = DclmProcess.Run("export", "onnx", "--model", DclmProcess.Fixture("dclm-tiny"), "--output", output, "--type", type, "--ctx", "128", "--block-size", "16");
        Assert.Equal(0, result.ExitCode);
        Assert.Contains("model.onnx", result.Output);

        var model = ModelProto.Parser.ParseFrom(File.ReadAllBytes(Path.Combine(output, "model.onnx")));
        var inputs = model.Graph.Input.Select(i => i.Name).ToArray();
        Assert.Equal(["input_ids", "attention_mask", "past_key_values.0.key", "past_key_values.0.value", "past_key_values.1.key", "past_key_values.1.value"], inputs);
        Assert.Equal("logits", model.Graph.Output[0].Name);
        Assert.Equal((int)logitsType, model.Graph.Output[0].Type.TensorType.ElemType);
        var blockSizes = model.Graph.Node.Where(n => n.OpType == "MatMulNBits").Select(n => n.Attribute.Single(a => a.Name == "block_size").I).Distinct().ToArray();
        Assert.Equal(type == "int4" ? [16L] : [], blockSizes);

        using var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "genai_config.json")));
        var genAiModel = config.RootElement.GetProperty("model");
        Assert.Equal(128, genAiModel.GetProperty("context_length").GetInt32());
        Assert.Equal(2, genAiModel.GetProperty("decoder").GetProperty("num_hidden_layers").GetInt32());
    }

    [Fact]
    public void ExternalDataGoesBesideTheModel()
    {
        string output = Path.Combine(_directory, "external");
        Assert.Equal(0, DclmProcess.Run("export", "onnx", "--model", DclmProcess.Fixture("dclm-tiny"), "--output", output, "--external-data").ExitCode);
        Assert.True(new FileInfo(Path.Combine(output, "model.onnx.data")).Length > new FileInfo(Path.Combine(output, "model.onnx")).Length);
    }

    [Theory]
    [InlineData("--block-size", "48", "--block-size")]
    [InlineData("--ctx", "99999", "--ctx")]
    [InlineData("--type", "int3", "int3")]
    public void BadOptionsEndInOneLineNamingThem(string option, string value, string mention)
    {
        var result = DclmProcess.Run("export", "onnx", "--model", DclmProcess.Fixture("dclm-tiny"), "--output", Path.Combine(_directory, "bad"), option, value);
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains(mention, result.Error);
        Assert.False(File.Exists(Path.Combine(_directory, "bad", "model.onnx")));
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
