namespace Dclm.Data.FastText;

/// <summary>
/// fastText's <c>lid.176.ftz</c> (176 languages, CC BY-SA 3.0, see models/lid.176/README.md), embedded in this
/// assembly so language identification needs no download.
/// </summary>
public static class LanguageIdentificationModel
{
    private static readonly Lazy<FastTextModel> Shared = new(Load);

    /// <summary>The name reports and errors use for the embedded model.</summary>
    public const string Name = "lid.176.ftz (embedded)";

    /// <summary>One instance shared by the whole process (the model is immutable and thread-safe).</summary>
    public static FastTextModel Default => Shared.Value;

    /// <summary>Loads a fresh copy of the embedded model.</summary>
    public static FastTextModel Load()
    {
        using var stream = typeof(LanguageIdentificationModel).Assembly.GetManifestResourceStream("Dclm.Data.lid.176.ftz")
                           ?? throw new InvalidOperationException("the embedded lid.176.ftz is missing from Dclm.Data");
        return FastTextModel.Load(stream, Name);
    }
}
