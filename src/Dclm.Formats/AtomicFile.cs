namespace Dclm.Formats;

/// <summary>
/// Writes a file under "&lt;path&gt;.tmp" and renames it over <c>path</c> only once it is complete, so a
/// crash or a failed callback never leaves a half-written model under the real name.
/// </summary>
public static class AtomicFile
{
    /// <summary>Writes <paramref name="path"/> through <paramref name="write"/> into a temporary file, flushed to disk, then renamed over it.</summary>
    public static void Write(string path, Action<FileStream> write)
    {
        string temporary = path + ".tmp";
        try
        {
            using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 1 << 20))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temporary, path, overwrite: true);
        }
        catch
        {
            try { File.Delete(temporary); }
            catch (IOException) { }
            throw;
        }
    }
}
