/* main.c - placeholder while the daemon is assembled. */
int main(void)
{
	return 0;
}
