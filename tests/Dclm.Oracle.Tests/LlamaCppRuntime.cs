using LLama.Native;

namespace Dclm.Oracle.Tests;

/// <summary>One-time setup of LLamaSharp's native library: quiet logging (errors only) before the first load.</summary>
internal static class LlamaCppRuntime
{
    private static readonly Lazy<bool> Configured = new(() =>
    {
        NativeLibraryConfig.All.WithLogCallback((level, message) =>
        {
            if (level == LLamaLogLevel.Error) Console.Error.Write(message);
        });
        return true;
    });

    public static void EnsureConfigured() => _ = Configured.Value;
}
