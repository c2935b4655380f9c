/** A page's last outcome: a notice (read out politely) and an error (read out at once), each empty when none. */
export function Messages({ notice, error }: { notice: string; error: string }) {
  return (
    <>
      <p role="status" className="notice">
        {notice}
      </p>
      <p role="alert" className="error">
        {error}
      </p>
    </>
  );
}
